"""Argument constraints: each rule, its near misses, and containment (a grant may only narrow)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from aispm.constraints import ArgConstraint, check_arguments


def c(**fields: Any) -> ArgConstraint:
    return ArgConstraint.model_validate(fields)


@pytest.mark.parametrize(
    ("constraint", "value", "code"),
    [
        (c(min=0, max=100), 50, None),
        (c(min=0, max=100), 100, None),
        (c(min=0, max=100), 100.01, "above_max"),
        (c(min=0, max=100), -1, "below_min"),
        (c(max=100), True, "not_a_number"),  # a bool is not an amount
        (c(max=100), "50", "not_a_number"),
        (c(max=100), float("nan"), "not_a_number"),
        (c(max=100), float("inf"), "above_max"),
        (c(enum=["eur", "usd"]), "eur", None),
        (c(enum=["eur", "usd"]), "EUR", "not_allowed_value"),
        (c(enum=[1, 2]), True, "not_allowed_value"),  # True == 1, but it is not 1
        (c(enum=[1, 2]), 2, None),
        (c(pattern=r"[A-Z]{3}-\d{4}"), "ABC-1234", None),
        (c(pattern=r"[A-Z]{3}-\d{4}"), "ABC-1234; rm -rf /", "pattern_mismatch"),  # the whole value
        (c(pattern=r"[A-Z]{3}-\d{4}"), 1234, "not_a_string"),
        (c(max_length=5), "abcdef", "too_long"),
        (c(max_length=2), ["a", "b", "c"], "too_long"),
        (c(path_under="/srv/data"), "/srv/data/reports/q1.csv", None),
        (c(path_under="/srv/data"), "reports/q1.csv", None),  # relative to the directory
        (c(path_under="/srv/data"), "/srv/data/../secrets/key", "path_outside"),
        (c(path_under="/srv/data"), "../../etc/passwd", "path_outside"),
        (c(path_under="/srv/data"), "/srv/database/x", "path_outside"),  # a sibling with the same prefix
        (c(path_under="/srv/data"), "/srv/data/a\0.csv", "path_outside"),
        (c(path_under="/srv/data"), 7, "path_outside"),
        (c(url_hosts=["api.example.com", "*.cdn.example"]), "https://api.example.com/v1", None),
        (c(url_hosts=["api.example.com", "*.cdn.example"]), "https://img.cdn.example/a.png", None),
        (c(url_hosts=["api.example.com"]), "https://API.EXAMPLE.COM./v1", None),
        (c(url_hosts=["api.example.com"]), "https://api.example.com.evil.example/", "host_not_allowed"),
        (c(url_hosts=["api.example.com"]), "https://api.example.com@evil.example/", "host_not_allowed"),
        (c(url_hosts=["api.example.com"]), "https:\\\\api.example.com\\@evil.example", "host_not_allowed"),
        (c(url_hosts=["api.example.com"]), "ftp://api.example.com/", "host_not_allowed"),
        (c(url_hosts=["api.example.com"]), "http://[::1/", "host_not_allowed"),  # unparseable
        (c(email_domains=["example.com"]), "bob@example.com", None),
        (c(email_domains=["example.com"]), ["bob@example.com", "ann@EXAMPLE.com"], None),
        (c(email_domains=["example.com"]), ["bob@example.com", "eve@evil.example"], "domain_not_allowed"),
        (c(email_domains=["example.com"]), "bob@example.com, eve@evil.example", "domain_not_allowed"),
        (c(email_domains=["example.com"]), "eve@evil.example@example.com", "domain_not_allowed"),
        (c(email_domains=["example.com"]), "Bob <eve@evil.example>@example.com", "domain_not_allowed"),
        (c(email_domains=["example.com"]), [], "domain_not_allowed"),
    ],
)
def test_violations(constraint: ArgConstraint, value: Any, code: str | None) -> None:
    assert constraint.violation(value) == code


def test_check_arguments_reports_codes_without_values() -> None:
    constraints = {"amount": c(max=100, required=True), "to": c(email_domains=["example.com"]), "memo": c()}
    assert check_arguments(constraints, {"amount": 50, "to": "a@example.com", "extra": 1}) == []
    codes = check_arguments(constraints, {"to": "secret-token@evil.example"})
    assert codes == ["args.amount.missing", "args.to.domain_not_allowed"]
    assert not any("secret" in code for code in codes)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min": 5, "max": 1}, "min is greater than max"),
        ({"pattern": "("}, "invalid regular expression"),
        ({"path_under": "relative/dir"}, "absolute"),
        ({"max_length": -1}, "greater than or equal"),
        ({"maximum": 3}, "Extra inputs"),
    ],
)
def test_invalid_constraints_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ArgConstraint.model_validate(fields)


@pytest.mark.parametrize(
    ("child", "parent", "within"),
    [
        (c(max=50), c(max=100), True),
        (c(max=150), c(max=100), False),
        (c(), c(max=100), False),  # dropping a bound widens
        (c(min=10, max=20), c(min=0, max=100), True),
        (c(min=-1), c(min=0), False),
        (c(enum=["eur"]), c(enum=["eur", "usd"]), True),
        (c(enum=["eur", "gbp"]), c(enum=["eur", "usd"]), False),
        (c(enum=[True]), c(enum=[1]), False),
        (c(pattern="a+"), c(pattern="a+"), True),
        (c(pattern="a"), c(pattern="a+"), False),  # not provably narrower: refused
        (c(path_under="/srv/data/reports"), c(path_under="/srv/data"), True),
        (c(path_under="/srv/data/../etc"), c(path_under="/srv/data"), False),
        (c(path_under="/srv"), c(path_under="/srv/data"), False),
        (c(url_hosts=["a.example.com"]), c(url_hosts=["*.example.com"]), True),
        (c(url_hosts=["*.example.com"]), c(url_hosts=["a.example.com"]), False),
        (c(email_domains=["example.com"]), c(email_domains=["example.com", "example.org"]), True),
        (c(max_length=10), c(max_length=20), True),
        (c(max_length=30), c(max_length=20), False),
        (c(), c(required=True), False),
        (c(required=True, max=1), c(), True),  # anything is within no constraint
        (c(json_schema={"type": "string"}), c(json_schema={"type": "string"}), True),
        (c(json_schema={"type": "string", "maxLength": 3}), c(json_schema={"type": "string"}), False),
    ],
)
def test_within(child: ArgConstraint, parent: ArgConstraint, within: bool) -> None:
    assert child.within(parent) is within
