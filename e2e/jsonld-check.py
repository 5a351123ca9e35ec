#!/usr/bin/env python3
"""Checks the JSON-LD JobPosting of job pages against what Google requires.

    jsonld-check.py PAGE.html... [--none PAGE.html...]

Every page before --none must carry exactly one JobPosting with every property
Google's job posting documentation marks required (title, description,
datePosted, hiringOrganization with a name, a location: jobLocation as a Place
with a PostalAddress naming its addressCountry, or a fully remote job's
jobLocationType TELECOMMUTE with applicantLocationRequirements), validThrough
(every job on the board expires), and well-formed optional properties
(baseSalary, employmentType, identifier, no nulls). Pages after --none (closed
jobs) must carry no JSON-LD. Exits non-zero naming each problem.
"""

import datetime
import json
import re
import sys
from html.parser import HTMLParser

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")
EMPLOYMENT = {"FULL_TIME", "PART_TIME", "CONTRACTOR", "TEMPORARY", "INTERN", "VOLUNTEER", "PER_DIEM", "OTHER"}
UNITS = {"HOUR", "DAY", "WEEK", "MONTH", "YEAR"}
AREAS = {"Country", "State", "AdministrativeArea"}


class Page(HTMLParser):
    """The JSON-LD blocks, the canonical link and the h1 of a page."""

    def __init__(self):
        super().__init__()
        self.blocks, self.canonical, self.h1 = [], None, ""
        self._in_ld = self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True
            self.blocks.append("")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        elif tag == "h1":
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld = False
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_ld:
            self.blocks[-1] += data
        elif self._in_h1:
            self.h1 += data


def when(value):
    """A date or date-time in ISO 8601, as Google takes them, or None."""
    if not isinstance(value, str) or not ISO_DATE.match(value):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def text(value):
    return isinstance(value, str) and value.strip() != ""


def listed(value):
    return value if isinstance(value, list) else [value]


def nulls(value, path="$"):
    """Where the document holds null: a property with no value is left out, not null."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nulls(v, f"{path}[{i}]")]
    return []


def problems(ld, page):
    out = []
    if ld.get("@context") not in ("https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/"):
        out.append(f"@context is {ld.get('@context')!r}, not schema.org")
    if ld.get("@type") != "JobPosting":
        out.append(f"@type is {ld.get('@type')!r}, not JobPosting")
    out += [f"{p} is null" for p in nulls(ld)]

    if not text(ld.get("title")):
        out.append("no title")
    elif ld["title"].strip() != " ".join(page.h1.split()):
        out.append(f"title {ld['title']!r} is not the page's h1 {page.h1.strip()!r}")
    if not text(ld.get("description")):
        out.append("no description")
    posted = when(ld.get("datePosted"))
    if posted is None:
        out.append(f"datePosted {ld.get('datePosted')!r} is not an ISO 8601 date")
    through = when(ld.get("validThrough"))
    if through is None:
        out.append(f"validThrough {ld.get('validThrough')!r} is not an ISO 8601 date (every live job expires)")
    elif posted is not None and through <= posted:
        out.append("validThrough is not after datePosted")

    org = ld.get("hiringOrganization")
    if not isinstance(org, dict) or not text(org.get("name")):
        out.append("hiringOrganization has no name")
    else:
        if org.get("@type") != "Organization":
            out.append(f"hiringOrganization is a {org.get('@type')!r}, not an Organization")
        for key in ("sameAs", "logo"):
            if key in org and not (isinstance(org[key], str) and re.match(r"^https?://", org[key])):
                out.append(f"hiringOrganization.{key} {org[key]!r} is not a URL")

    # Where: a Place with a country, or fully remote from named areas.
    places = [p for p in listed(ld.get("jobLocation")) if p is not None]
    for p in places:
        address = p.get("address") if isinstance(p, dict) else None
        if not isinstance(p, dict) or p.get("@type") != "Place":
            out.append(f"jobLocation {p!r} is not a Place")
        elif not isinstance(address, dict) or address.get("@type") != "PostalAddress":
            out.append("jobLocation has no PostalAddress")
        elif not text(address.get("addressCountry")):
            out.append("jobLocation's address has no addressCountry")
        elif "," in address["addressCountry"]:
            out.append(f"addressCountry {address['addressCountry']!r} is more than a country")
    remote = ld.get("jobLocationType") == "TELECOMMUTE"
    if "jobLocationType" in ld and not remote:
        out.append(f"jobLocationType {ld['jobLocationType']!r} is not TELECOMMUTE")
    if remote:
        areas = [a for a in listed(ld.get("applicantLocationRequirements")) if a is not None]
        if not areas:
            out.append("a TELECOMMUTE job without applicantLocationRequirements")
        for a in areas:
            if not isinstance(a, dict) or a.get("@type") not in AREAS or not text(a.get("name")):
                out.append(f"applicantLocationRequirements {a!r} is not a named Country, State or AdministrativeArea")
    if not places and not remote:
        out.append("neither jobLocation nor jobLocationType TELECOMMUTE")

    if "baseSalary" in ld:
        s = ld["baseSalary"]
        value = s.get("value") if isinstance(s, dict) else None
        if not isinstance(s, dict) or s.get("@type") != "MonetaryAmount":
            out.append("baseSalary is not a MonetaryAmount")
        elif not (isinstance(s.get("currency"), str) and re.match(r"^[A-Z]{3}$", s["currency"])):
            out.append(f"baseSalary currency {s.get('currency')!r} is not an ISO 4217 code")
        elif not isinstance(value, dict) or value.get("@type") != "QuantitativeValue":
            out.append("baseSalary value is not a QuantitativeValue")
        else:
            if value.get("unitText") not in UNITS:
                out.append(f"baseSalary unitText {value.get('unitText')!r} is not one of {sorted(UNITS)}")
            amounts = {k: value[k] for k in ("value", "minValue", "maxValue") if k in value}
            if not amounts or not all(isinstance(v, (int, float)) and v >= 0 for v in amounts.values()):
                out.append(f"baseSalary amounts {amounts!r} are not numbers")
            elif amounts.get("minValue", 0) > amounts.get("maxValue", float("inf")):
                out.append("baseSalary minValue above maxValue")
    for t in listed(ld.get("employmentType", [])):
        if t not in EMPLOYMENT:
            out.append(f"employmentType {t!r} is not one of Google's")
    ident = ld.get("identifier")
    if ident is not None and not (isinstance(ident, dict) and ident.get("@type") == "PropertyValue" and text(ident.get("name")) and text(str(ident.get("value", "")))):
        out.append("identifier is not a PropertyValue with name and value")
    if ld.get("url") is not None and ld.get("url") != page.canonical:
        out.append(f"url {ld.get('url')!r} is not the canonical link {page.canonical!r}")
    return out


def main(args):
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    bad = checked = 0
    expect_none = False
    for arg in args:
        if arg == "--none":
            expect_none = True
            continue
        page = Page()
        page.feed(open(arg, encoding="utf-8").read())
        found = []
        if expect_none:
            if page.blocks:
                found = [f"{len(page.blocks)} JSON-LD block(s) on a page that must have none"]
        elif len(page.blocks) != 1:
            found = [f"{len(page.blocks)} JSON-LD blocks, not one"]
        else:
            try:
                found = problems(json.loads(page.blocks[0]), page)
            except json.JSONDecodeError as e:
                found = [f"JSON-LD does not parse: {e}"]
        for f in found:
            print(f"jsonld-check: {arg}: {f}", file=sys.stderr)
        bad += bool(found)
        checked += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
