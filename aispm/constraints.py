"""Argument constraints: what values a tool call may carry.

One `ArgConstraint` bounds one argument: numeric bounds, an enumeration, a regular
expression, a maximum length, a directory a path must stay under, the hosts a URL
may point at, the domains an e-mail address may belong to, and a JSON Schema as an
escape hatch (extra ``jsonschema``). The policy attaches them to tools, agents and
roles; delegations carry them in their scopes. Every constraint that applies must
hold: the effective permission is their intersection.

A violation is reported by a short code (``args.amount.above_max``), never with the
value: arguments may hold the very secret a guard is protecting.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import MissingExtraError

__all__ = ["ArgConstraint", "check_arguments"]

_URL_UNSAFE = frozenset("\\\0\r\n\t ")  # make URL parsers disagree about the host
_ADDRESS_UNSAFE = frozenset(' \t\r\n,;<>"()')  # a second address, a display name, a comment
_MAX_CHECKED = 100_000
"""Longest string a pattern, path, URL or address check looks at; longer values violate."""


class ArgConstraint(BaseModel):
    """Bounds on one argument of a tool call. Unset fields do not constrain.

    Attributes:
        required: The argument must be present.
        min: Smallest allowed number (inclusive).
        max: Largest allowed number (inclusive).
        enum: The allowed values (compared by equality; ``1`` and ``True`` differ).
        pattern: A regular expression the whole string must match.
        max_length: Longest allowed string (or list) length.
        path_under: A directory the path must stay under (after resolving ``..``).
        url_hosts: Hosts a URL may point at; ``*.example.com`` also allows subdomains.
        email_domains: Domains an address (or each of a list) may belong to; ``*.`` as for hosts.
        json_schema: A JSON Schema the value must satisfy (needs the ``jsonschema`` extra).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    required: bool = False
    min: float | None = None
    max: float | None = None
    enum: tuple[str | int | float | bool | None, ...] | None = None
    pattern: str | None = None
    max_length: int | None = Field(default=None, ge=0)
    path_under: str | None = None
    url_hosts: tuple[str, ...] | None = None
    email_domains: tuple[str, ...] | None = None
    json_schema: dict[str, Any] | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @field_validator("path_under")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("path_under must be an absolute POSIX path")
        return None if value is None else _normpath(value)

    @field_validator("url_hosts", "email_domains")
    @classmethod
    def _lower(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(v.lower().rstrip(".") for v in value)

    @model_validator(mode="after")
    def _bounds(self) -> ArgConstraint:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return None if self.pattern is None else re.compile(self.pattern)

    def violation(self, value: Any) -> str | None:
        """The first rule ``value`` breaks, as a short code, or ``None`` when it complies."""
        if self.enum is not None and not any(_same(value, allowed) for allowed in self.enum):
            return "not_allowed_value"
        if self.min is not None or self.max is not None:
            number = _number(value)
            if number is None:
                return "not_a_number"
            if self.min is not None and number < self.min:
                return "below_min"
            if self.max is not None and number > self.max:
                return "above_max"
        if self.max_length is not None and isinstance(value, str | list | tuple) and len(value) > self.max_length:
            return "too_long"
        if self.pattern is not None:
            if not isinstance(value, str) or len(value) > _MAX_CHECKED:
                return "not_a_string"
            regex = self._regex
            if regex is None or regex.fullmatch(value) is None:
                return "pattern_mismatch"
        if self.path_under is not None and not _path_under(value, self.path_under):
            return "path_outside"
        if self.url_hosts is not None and not _url_allowed(value, self.url_hosts):
            return "host_not_allowed"
        if self.email_domains is not None and not _emails_allowed(value, self.email_domains):
            return "domain_not_allowed"
        if self.json_schema is not None and not _schema_valid(value, self.json_schema):
            return "schema_mismatch"
        return None

    def within(self, parent: ArgConstraint) -> bool:
        """Whether this constraint is at least as strict as ``parent`` (a grant may only narrow).

        Decided per field, conservatively: a regular expression or a JSON Schema is
        only known to be as strict when it is the same one.
        """
        if parent.required and not self.required:
            return False
        if parent.min is not None and (self.min is None or self.min < parent.min):
            return False
        if parent.max is not None and (self.max is None or self.max > parent.max):
            return False
        if parent.enum is not None and (
            self.enum is None or not all(any(_same(v, p) for p in parent.enum) for v in self.enum)
        ):
            return False
        if parent.max_length is not None and (self.max_length is None or self.max_length > parent.max_length):
            return False
        if parent.pattern is not None and self.pattern != parent.pattern:
            return False
        if parent.path_under is not None and (
            self.path_under is None or not _path_under(self.path_under, parent.path_under)
        ):
            return False
        if parent.url_hosts is not None and (
            self.url_hosts is None or not all(_host_covered(h, parent.url_hosts) for h in self.url_hosts)
        ):
            return False
        if parent.email_domains is not None and (
            self.email_domains is None or not all(_host_covered(d, parent.email_domains) for d in self.email_domains)
        ):
            return False
        return parent.json_schema is None or self.json_schema == parent.json_schema


def check_arguments(constraints: Mapping[str, ArgConstraint], args: Mapping[str, Any]) -> list[str]:
    """Violation codes (``args.<name>.<code>``) of ``args`` against ``constraints``, in name order."""
    found: list[str] = []
    for name in sorted(constraints):
        constraint = constraints[name]
        if name not in args:
            if constraint.required:
                found.append(f"args.{name}.missing")
            continue
        code = constraint.violation(args[name])
        if code is not None:
            found.append(f"args.{name}.{code}")
    return found


def _same(a: Any, b: Any) -> bool:
    # bool is an int in Python: True == 1 must not let True through an enum of (1, 2)
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _normpath(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path.startswith("/") else posixpath.normpath(path)


def _path_under(value: Any, directory: str) -> bool:
    """Lexically: ``..`` is resolved, symlinks are not (the tool must open paths without following them)."""
    if not isinstance(value, str) or not value or len(value) > _MAX_CHECKED or "\0" in value:
        return False
    if not value.startswith("/"):
        value = posixpath.join(directory, value)  # a relative path is relative to the directory
    resolved = _normpath(value)
    return resolved == directory or resolved.startswith(directory.rstrip("/") + "/")


def _host_covered(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        if pattern.startswith("*."):
            base = pattern[2:]
            if host == base or host.endswith("." + base):
                return True
        elif host == pattern:
            return True
    return False


def _url_allowed(value: Any, hosts: tuple[str, ...]) -> bool:
    if not isinstance(value, str) or len(value) > _MAX_CHECKED or not _URL_UNSAFE.isdisjoint(value):
        return False  # backslashes and whitespace make parsers disagree about the host
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return False  # userinfo ("https://good.example@evil.example") is a classic host confusion
    return _host_covered(host, hosts)


def _emails_allowed(value: Any, domains: tuple[str, ...]) -> bool:
    values = value if isinstance(value, list | tuple) else [value]
    if not values:
        return False
    for address in values:
        if not isinstance(address, str) or len(address) > 320 or address.count("@") != 1:
            return False
        local, domain = address.rsplit("@", 1)
        if not local or not domain or not _ADDRESS_UNSAFE.isdisjoint(address):
            return False
        if not _host_covered(domain, domains):
            return False
    return True


def _schema_valid(value: Any, schema: dict[str, Any]) -> bool:
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError("jsonschema", "jsonschema", "a json_schema argument constraint") from exc
    return bool(jsonschema.Draft202012Validator(schema).is_valid(value))
