"""Schemathesis hooks for e2e/api-fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

The job input schemas say what JSON Schema can; two rules of a job are not
expressible there and are stated in the schemas' descriptions instead:

- `salary_max` may not be below `salary_min`;
- a merge patch must leave a valid job, so whether one is taken can depend on
  the job it patches (a new `salary_min` above the stored `salary_max`, or
  emptying `apply_url` when the job has no `apply_email`).

These hooks keep generated bodies to those that are valid whatever the stored
job holds, so that `positive_data_acceptance` still judges everything else.
They only drop bodies (in every mode: a negative case breaks the schema
elsewhere, and dropping a few changes nothing); nothing is rewritten.
"""

import schemathesis


def _given(body, field):
    """Set to something other than null or blank (as the board reads text:
    the control characters XML cannot carry dropped, then white space
    trimmed)."""
    value = body.get(field)
    if isinstance(value, str):
        kept = "".join(c for c in value if not (c < " " and c not in "\t\n\r") and c not in "\ufffe\uffff")
        return bool(kept.strip())
    return value is not None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@schemathesis.hook
def filter_body(ctx, body):
    if not isinstance(body, dict):
        return True
    low, high = _int(body.get("salary_min")), _int(body.get("salary_max"))
    if low is not None and high is not None and low > high:
        return False
    if ctx.operation is not None and ctx.operation.method.upper() == "PATCH":
        # A patch that touches the salary removes it (both amounts null) or
        # gives all of it; one that clears a way to apply gives the other.
        salary = ("salary_min", "salary_max", "salary_currency")
        if any(key in body for key in salary):
            removed = all(key in body and body[key] is None for key in salary[:2])
            if not removed and not all(_given(body, key) for key in salary):
                return False
        for one, other in (("apply_url", "apply_email"), ("apply_email", "apply_url")):
            if one in body and not _given(body, one) and not _given(body, other):
                return False
    return True
