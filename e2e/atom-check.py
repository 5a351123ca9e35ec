#!/usr/bin/env python3
"""Checks that Atom feeds are valid Atom 1.0 (RFC 4287).

    atom-check.py FILE=URL...        each FILE is the feed fetched from URL
    atom-check.py --self-test FILE   breaks a valid feed in many ways and fails
                                     unless every broken copy is refused
                                     (ATOM_CHECK_VERBOSE=1: and says by what)

Two layers: the grammar e2e/schemas/atom.rng (through `xmllint --relaxng`)
for which elements go where, and the rules below for what a grammar cannot
state. Section numbers are RFC 4287's; rules marked "board" are the board's own
promises rather than the RFC's. Exits non-zero and names the problem on any
failure.
"""

import copy
import datetime
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

ATOM = "http://www.w3.org/2005/Atom"
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", "atom.rng")
A = "{%s}" % ATOM
ET.register_namespace("", ATOM)

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$"
)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def schema_errors(path):
    """What the grammar refuses, as xmllint says it."""
    run = subprocess.run(
        ["xmllint", "--noout", "--relaxng", SCHEMA, path],
        capture_output=True,
        text=True,
    )
    if run.returncode == 0:
        return []
    return [l for l in run.stderr.splitlines() if l and not l.endswith("fails to validate")]


def timestamp(text):
    """The instant of an RFC 3339 date-time (§3.3), or None."""
    m = RFC3339.match(text or "")
    if not m:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:  # 2026-02-30, 25:00 and the like
        return None


def absolute_iri(text):
    """An absolute IRI (RFC 3987): a scheme, then something; http(s) with a host."""
    text = (text or "").strip()
    if not SCHEME.match(text):
        return False
    parts = urlsplit(text)
    return parts.scheme not in ("http", "https") or bool(parts.netloc)


def links(parent):
    return parent.findall(A + "link")


def rel(link):
    # §4.2.7.2: a link without rel is an alternate link.
    return link.get("rel", "alternate")


def rule_errors(path, url):
    """The rules of RFC 4287 (and the board's) that the grammar leaves out."""
    errors = []
    feed = ET.parse(path).getroot()
    if feed.tag != A + "feed":
        return [f"the root is {feed.tag}, not atom:feed (§4.1.1)"]
    entries = feed.findall(A + "entry")

    # §4.2.6: ids are absolute IRIs; board: each entry once.
    feed_id = feed.findtext(A + "id")
    if not absolute_iri(feed_id):
        errors.append(f"feed id {feed_id!r} is not an absolute IRI (§4.2.6)")
    seen = {}
    for n, e in enumerate(entries, 1):
        eid = e.findtext(A + "id")
        if not absolute_iri(eid):
            errors.append(f"entry {n}: id {eid!r} is not an absolute IRI (§4.2.6)")
        if eid in seen:
            errors.append(f"entry {n}: id {eid!r} repeats entry {seen[eid]} (board: each job once)")
        seen.setdefault(eid, n)

    # §3.3: every date construct an RFC 3339 date-time; board: the feed's
    # updated is no older than its newest entry, and no entry was published
    # after it was last updated.
    feed_updated = timestamp(feed.findtext(A + "updated"))
    if feed_updated is None:
        errors.append(f"feed updated {feed.findtext(A + 'updated')!r} is not an RFC 3339 date-time (§3.3)")
    for n, e in enumerate(entries, 1):
        updated = timestamp(e.findtext(A + "updated"))
        if updated is None:
            errors.append(f"entry {n}: updated {e.findtext(A + 'updated')!r} is not an RFC 3339 date-time (§3.3)")
        elif feed_updated is not None and updated > feed_updated:
            errors.append(f"entry {n}: updated {updated} after the feed's {feed_updated} (board)")
        published = e.find(A + "published")
        if published is not None:
            when = timestamp(published.text)
            if when is None:
                errors.append(f"entry {n}: published {published.text!r} is not an RFC 3339 date-time (§3.3)")
            elif updated is not None and when > updated:
                errors.append(f"entry {n}: published after it was last updated (board)")

    # §4.1.1, §4.1.2: an author for every entry: its own, its source's, or the feed's.
    feed_has_author = feed.find(A + "author") is not None
    for n, e in enumerate(entries, 1):
        source = e.find(A + "source")
        has = e.find(A + "author") is not None or (
            source is not None and source.find(A + "author") is not None
        )
        if not (has or feed_has_author):
            errors.append(f"entry {n}: no author, and the feed has none (§4.1.1, §4.1.2)")
    for who in feed.iter(A + "author"):
        if not (who.findtext(A + "name") or "").strip():
            errors.append("an author with an empty name (§3.2.1; board)")

    # §4.1.1, §4.1.2: at most one alternate link per type and hreflang.
    for where, parent in [("the feed", feed)] + [(f"entry {n}", e) for n, e in enumerate(entries, 1)]:
        pairs = [(l.get("type"), l.get("hreflang")) for l in links(parent) if rel(l) == "alternate"]
        for pair in set(pairs):
            if pairs.count(pair) > 1:
                errors.append(f"{where}: {pairs.count(pair)} alternate links of type {pair[0]} and hreflang {pair[1]} (§4.1.1, §4.1.2)")
        for l in links(parent):
            if not absolute_iri(l.get("href")):
                errors.append(f"{where}: link href {l.get('href')!r} is not absolute (board)")
        title = parent.find(A + "title")
        if title is None or not "".join(title.itertext()).strip():
            errors.append(f"{where}: an empty title (board)")

    # §4.1.2, §4.1.3: content, and when a summary is required.
    for n, e in enumerate(entries, 1):
        content = e.find(A + "content")
        has_summary = e.find(A + "summary") is not None
        if content is None:
            if not any(rel(l) == "alternate" for l in links(e)):
                errors.append(f"entry {n}: neither content nor an alternate link (§4.1.2)")
            continue
        ctype = content.get("type", "text")
        if content.get("src") is not None:
            if ctype in ("text", "html", "xhtml"):
                errors.append(f"entry {n}: content with src has type {ctype!r}, not a media type (§4.1.3.1)")
            if not has_summary:
                errors.append(f"entry {n}: content elsewhere (src) and no summary (§4.1.2)")
            continue
        if ctype not in ("text", "html", "xhtml"):
            xml_like = ctype.endswith("+xml") or ctype.endswith("/xml")
            textual = ctype.lower().startswith("text/")
            if not (xml_like or textual) and not has_summary:
                errors.append(f"entry {n}: base64 content of type {ctype} and no summary (§4.1.2)")

    # §4.2.7.2 says a feed SHOULD link to itself; board: it does, as
    # application/atom+xml, to the URL it was fetched from.
    selfs = [l for l in links(feed) if rel(l) == "self"]
    if len(selfs) != 1:
        errors.append(f"the feed has {len(selfs)} self links, not one (§4.2.7.2; board)")
    elif url:
        href = selfs[0].get("href", "")
        mine, theirs = urlsplit(href), urlsplit(url)
        same = (mine.scheme, mine.netloc, mine.path) == (theirs.scheme, theirs.netloc, theirs.path) and sorted(
            parse_qsl(mine.query)
        ) == sorted(parse_qsl(theirs.query))
        if not same:
            errors.append(f"the self link {href} is not the feed's URL {url} (board)")
        if selfs[0].get("type") != "application/atom+xml":
            errors.append(f"the self link's type is {selfs[0].get('type')!r} (board)")
    return errors


def check(path, url):
    """Every problem with the feed in `path`, fetched from `url`."""
    try:
        problems = schema_errors(path)
        return problems + rule_errors(path, url)
    except ET.ParseError as e:
        return [f"not well-formed XML: {e}"]


def self_test(path):
    """Each broken copy of a valid feed must be refused, by the grammar or the rules."""
    tree = ET.parse(path)
    feed = tree.getroot()
    url = next(l.get("href") for l in links(feed) if rel(l) == "self")
    entries = feed.findall(A + "entry")
    if len(entries) < 2:
        sys.exit(f"atom-check: the self-test needs a feed with two entries; {path} has {len(entries)}")

    def first(e, tag):
        return e.find(A + tag)

    def drop(parent, tag):
        for child in parent.findall(A + tag):
            parent.remove(child)

    def add(parent, tag, text=None, **attrs):
        child = ET.SubElement(parent, A + tag, attrs)
        child.text = text
        return child

    breakages = {
        "no feed id": lambda f, es: drop(f, "id"),
        "a second entry title": lambda f, es: add(es[0], "title", "Again"),
        "a date without its time zone": lambda f, es: setattr(first(es[0], "updated"), "text", first(es[0], "updated").text.rstrip("Z")),
        "a date with a space for T": lambda f, es: setattr(first(f, "updated"), "text", first(f, "updated").text.replace("T", " ")),
        "30 February": lambda f, es: setattr(first(es[1], "updated"), "text", "2026-02-30T10:00:00Z"),
        "an unknown attribute": lambda f, es: es[0].set("status", "open"),
        "an Atom element out of place": lambda f, es: add(f, "published", first(f, "updated").text),
        "content of type 'markdown'": lambda f, es: first(es[0], "content").set("type", "markdown"),
        "a link without href": lambda f, es: add(es[0], "link", rel="related"),
        "an author without a name": lambda f, es: drop(first(es[0], "author"), "name"),
        "a bad hreflang": lambda f, es: first(es[0], "link").set("hreflang", "en_GB"),
        "a relative entry id": lambda f, es: setattr(first(es[0], "id"), "text", urlsplit(first(es[0], "id").text).path),
        "a repeated entry id": lambda f, es: setattr(first(es[1], "id"), "text", first(es[0], "id").text),
        "no author anywhere": lambda f, es: [drop(x, "author") for x in [f, *es]],
        "two alternate links alike": lambda f, es: es[0].append(copy.deepcopy(first(es[0], "link"))),
        "neither content nor alternate link": lambda f, es: (drop(es[0], "content"), drop(es[0], "link")),
        "base64 content without a summary": lambda f, es: (first(es[0], "content").set("type", "application/pdf"), drop(es[0], "summary")),
        "an entry newer than its feed": lambda f, es: setattr(first(es[0], "updated"), "text", "2999-01-01T00:00:00Z"),
        "a self link elsewhere": lambda f, es: next(l for l in links(f) if rel(l) == "self").set("href", url + "&x=1" if "?" in url else url + "?x=1"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        # The unbroken copy, as ElementTree writes it, must pass.
        plain = os.path.join(tmp, "plain.xml")
        tree.write(plain, encoding="utf-8", xml_declaration=True)
        if check(plain, url):
            sys.exit(f"atom-check: self-test: the unbroken feed fails: {check(plain, url)}")
        original = open(plain, "rb").read()
        failed = []
        for name, breakage in breakages.items():
            broken = copy.deepcopy(tree)
            root = broken.getroot()
            breakage(root, root.findall(A + "entry"))
            target = os.path.join(tmp, "broken.xml")
            broken.write(target, encoding="utf-8", xml_declaration=True)
            if open(target, "rb").read() == original:
                failed.append(f"{name}: the breakage changed nothing")
            else:
                problems = check(target, url)
                if not problems:
                    failed.append(f"{name}: accepted")
                elif os.environ.get("ATOM_CHECK_VERBOSE"):
                    print(f"  {name}: {problems[0]}")
        if failed:
            sys.exit("atom-check: self-test: broken feeds passed:\n  " + "\n  ".join(failed))
    return len(breakages)


def main(args):
    if args[:1] == ["--self-test"] and len(args) == 2:
        n = self_test(args[1])
        print(f"atom-check: self-test: {n} broken feeds refused")
        return 0
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for arg in args:
        path, _, url = arg.partition("=")
        problems = check(path, url or None)
        for p in problems:
            print(f"atom-check: {url or path}: {p}", file=sys.stderr)
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
