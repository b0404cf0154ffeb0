"""Redaction: replace located findings in a text by a mask, a partial mask or a pseudonym.

`placeholder` and `redact` are the mask mode (``[REDACTED:EMAIL]``). `Redactor`
adds the other modes and per-detector overrides; a guard builds one from its
policy and calls `Redactor.redact` for every text it redacts:

- ``mask``: ``[REDACTED:EMAIL]``.
- ``partial``: keeps a few characters that help a reader and never enough to
  recover the value (``j***@e***.com``, ``****1234``, ``ghp_****``); a type
  without a partial rule is masked.
- ``pseudonym``: ``<EMAIL_1>``, the same pseudonym for the same value within a
  session, across calls; not reversible.
- ``vault``: pseudonyms whose values a `aispm.vault.SessionVault` keeps, so
  the application can restore them in the final answer.

Overlapping findings merge into one replacement, named after the first of them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

from .decisions import Finding
from .errors import PolicyError
from .vault import MAX_ENTITY_CHARS, SessionVault

__all__ = ["MODES", "RedactionMode", "Redactor", "entity", "placeholder", "redact"]

RedactionMode = Literal["mask", "partial", "pseudonym", "vault"]
MODES: Final[tuple[RedactionMode, ...]] = ("mask", "partial", "pseudonym", "vault")
"""The redaction modes, from the one that keeps least to the reversible one."""


def placeholder(detector_id: str) -> str:
    """The text that replaces a match: ``pii.email`` → ``[REDACTED:EMAIL]``."""
    return f"[REDACTED:{detector_id.rsplit('.', 1)[-1].upper()}]"


def entity(detector_id: str) -> str:
    """The entity type in a pseudonym: the last dotted part, upper case, as in `placeholder`.

    Characters a pseudonym cannot hold become ``_``: ``acme.employee-id`` → ``EMPLOYEE_ID``.
    """
    name = detector_id.rsplit(".", 1)[-1].upper()[:MAX_ENTITY_CHARS]
    name = "".join(c if ("A" <= c <= "Z" or "0" <= c <= "9") else "_" for c in name)
    return name or "VALUE"


class _Group:
    """One replacement: a span of the text and the finding that names it."""

    __slots__ = ("end", "finding", "single", "start")

    def __init__(self, start: int, end: int, finding: Finding) -> None:
        self.start = start
        self.end = end
        self.finding = finding
        self.single = True  # every finding merged into it has exactly this span


def _groups(findings: Iterable[Finding]) -> list[_Group]:
    """Merge located findings into replacements, in text order.

    Findings are sorted by start, then end, then detector id; a finding inside
    the previous replacement is absorbed, one that overlaps it extends it, one
    that only touches it starts a new one. Unlocated findings are ignored.
    """
    located: list[tuple[int, int, Finding]] = [
        (f.start, f.end, f) for f in findings if f.start is not None and f.end is not None
    ]
    located.sort(key=lambda t: (t[0], t[1], t[2].detector))
    groups: list[_Group] = []
    pos = -1  # end of the last replacement; -1 so an empty span at 0 still marks its place
    for start, end, f in located:
        if end <= pos:  # inside the previous replacement
            last = groups[-1]
            if (start, end) != (last.finding.start, last.finding.end):
                last.single = False
            continue
        if start < pos:  # overlaps it: extend
            last = groups[-1]
            last.end = end
            last.single = False
            pos = end
            continue
        groups.append(_Group(start, end, f))
        pos = end
    return groups


def redact(text: str, findings: Iterable[Finding]) -> str:
    """Return ``text`` with every located finding replaced by its placeholder (mask mode).

    Overlapping findings are merged; the placeholder of the first one is used.
    """
    groups = _groups(findings)
    if not groups:
        return text
    parts: list[str] = []
    pos = 0
    for g in groups:
        parts.append(text[pos : g.start])
        parts.append(placeholder(g.finding.detector))
        pos = g.end
    parts.append(text[pos:])
    return "".join(parts)


class Redactor:
    """Redacts texts in one mode, with per-detector overrides. Built once per guard; thread-safe.

    Args:
        mode: The default mode: ``mask``, ``partial``, ``pseudonym`` or ``vault``.
        modes: Modes for particular detector ids, e.g. ``{"pii.email": "vault"}``.
        vault: Where pseudonyms (and, in vault mode, values) live per session;
            a `SessionVault` with default bounds is made when a mode needs one.

    Raises:
        PolicyError: A mode is unknown, or ``modes`` is not a mapping of detector ids to modes.
    """

    __slots__ = ("_default", "_entities", "_masks_only", "_modes", "_vault")

    def __init__(
        self,
        mode: str = "mask",
        *,
        modes: Mapping[str, str] | None = None,
        vault: SessionVault | None = None,
    ) -> None:
        self._default = _mode(mode, "mode")
        if modes is None:
            modes = {}
        if not isinstance(modes, Mapping):
            raise PolicyError("modes must be a mapping of detector ids to redaction modes")
        checked: dict[str, RedactionMode] = {}
        for detector_id, detector_mode in modes.items():
            if not isinstance(detector_id, str) or not detector_id:
                raise PolicyError("modes must be keyed by detector ids (non-empty strings)")
            checked[detector_id] = _mode(detector_mode, f"modes[{detector_id!r}]")
        self._modes = checked
        used = {self._default, *checked.values()}
        if vault is not None and not isinstance(vault, SessionVault):
            raise PolicyError(f"vault must be a SessionVault, got {type(vault).__name__}")
        if vault is None and not used.isdisjoint({"pseudonym", "vault"}):
            vault = SessionVault()
        self._vault = vault
        self._masks_only = used == {"mask"}
        self._entities: dict[str, str] = {}  # detector id → entity; one entry per detector and rule id

    @property
    def mode(self) -> RedactionMode:
        """The default mode."""
        return self._default

    @property
    def modes(self) -> Mapping[str, RedactionMode]:
        """Per-detector modes (a copy)."""
        return dict(self._modes)

    @property
    def vault(self) -> SessionVault | None:
        """The session vault, when a mode uses one."""
        return self._vault

    def mode_for(self, detector_id: str) -> RedactionMode:
        """The mode for this detector's findings."""
        return self._modes.get(detector_id, self._default)

    def redact(self, text: str, findings: Sequence[Finding], session_id: str | None = None) -> str:
        """Return ``text`` with every located finding replaced, each in its detector's mode.

        Pseudonyms are consistent within ``session_id`` across calls; with no
        session they are consistent within this one text only, and nothing is
        stored (vault mode then cannot be restored). A value the session has no
        room for, and an empty span, are masked.

        Raises:
            TypeError: ``session_id`` is not a ``str`` or ``None``.
            ValueError: ``session_id`` is empty.
        """
        if session_id is not None and (not isinstance(session_id, str) or not session_id):
            raise TypeError("session_id must be a non-empty str or None")
        if self._masks_only:
            return redact(text, findings)
        groups = _groups(findings)
        if not groups:
            return text
        out: list[str] = []
        wanted: list[tuple[int, str, tuple[str, str, bool]]] = []  # index in `out`, detector id, request
        pos = 0
        for g in groups:
            out.append(text[pos : g.start])
            f = g.finding
            mode = self._modes.get(f.detector, self._default)
            value = text[g.start : g.end]
            if mode == "mask" or not value:
                out.append(placeholder(f.detector))
            elif mode == "partial":
                kept = _partial(self._entity(f.detector), f, value) if g.single else None
                out.append(placeholder(f.detector) if kept is None else kept)
            else:
                wanted.append((len(out), f.detector, (self._entity(f.detector), value, mode == "vault")))
                out.append("")
            pos = g.end
        out.append(text[pos:])
        if wanted:
            vault = self._vault  # always set when a pseudonym mode is in use; masked otherwise
            requests = [request for _, _, request in wanted]
            tokens = vault._assign(session_id, requests) if vault is not None else [None] * len(requests)
            for (i, detector_id, _), token in zip(wanted, tokens, strict=True):
                out[i] = placeholder(detector_id) if token is None else token
        return "".join(out)

    def restore(self, text: str, session_id: str | None) -> str:
        """Put this session's vaulted values back in place of their pseudonyms (see `SessionVault.restore`)."""
        if self._vault is None:
            return text
        return self._vault.restore(text, session_id)

    def __repr__(self) -> str:
        return f"Redactor(mode={self._default!r}, modes={self._modes!r})"

    def _entity(self, detector_id: str) -> str:
        name = self._entities.get(detector_id)
        if name is None:
            name = entity(detector_id)
            if len(self._entities) < 4096:  # detector and rule ids are few; bound it anyway
                self._entities[detector_id] = name
        return name


def _mode(value: object, what: str) -> RedactionMode:
    for mode in MODES:
        if value == mode:
            return mode
    raise PolicyError(f"{what} must be one of {', '.join(MODES)}")


# -- partial masks -------------------------------------------------------------------------------
# Each rule checks the shape of the value and keeps a fixed, small part of it; a value of the
# wrong shape gets the placeholder, so a rule never shows more than it was written to show.
# Masks have a fixed length, so they do not tell the length of the value either.

_MASK = "****"
_EMAILS = frozenset({"EMAIL", "EMAIL_ADDRESS"})
_CARDS = frozenset({"CREDIT_CARD", "PAYMENT_CARD", "CARD", "CARD_NUMBER"})
_PHONES = frozenset({"PHONE", "PHONE_NUMBER"})
_SSNS = frozenset({"US_SSN", "SSN"})
_IBANS = frozenset({"IBAN", "IBAN_CODE"})
_IPS = frozenset({"IP", "IP_ADDRESS", "IPV4", "IPV6"})
# Provider prefixes of secrets: they say whose credential it is, not what it is. Longest first.
_SECRET_PREFIXES: Final = tuple(
    sorted(
        (
            *("github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),  # GitHub
            *("glpat-", "gldt-", "glrt-", "glptt-", "glsoat-"),  # GitLab
            *("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-"),  # Slack
            *("sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "whsec_"),  # Stripe
            *("sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-"),  # Anthropic, OpenAI
            *("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA", "ASCA"),  # AWS
            *("AIza", "ya29."),  # Google
            *("hf_", "npm_", "pypi-", "SG.", "shpat_", "shpss_", "dop_v1_", "doo_v1_"),
            "eyJ",  # JWT: base64 of '{"'
        ),
        key=len,
        reverse=True,
    )
)


def _clean(value: str) -> str:
    """Compatibility forms folded (fullwidth → ASCII) and invisible format characters dropped."""
    value = unicodedata.normalize("NFKC", value)
    if value.isascii():
        return value
    return "".join(c for c in value if unicodedata.category(c) != "Cf")


def _digits(value: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in _clean(value) if c.isdecimal())


def _partial(kind: str, finding: Finding, value: str) -> str | None:
    """The partial mask of ``value``, or ``None`` to use the placeholder."""
    if kind in _EMAILS:
        return _partial_email(_clean(value))
    if kind in _CARDS:
        digits = _digits(value)  # PCI DSS allows first 6 and last 4; last 4 only is safer
        return _MASK + digits[-4:] if 12 <= len(digits) <= 19 else None
    if kind in _PHONES:
        digits = _digits(value)
        return _MASK + digits[-4:] if 10 <= len(digits) <= 15 else None
    if kind in _SSNS:
        # The last four digits of an SSN are still used to authenticate people: keep none.
        return "***-**-****" if len(_digits(value)) == 9 else None
    if kind in _IBANS:
        return _partial_iban(_clean(value))
    if kind in _IPS:
        return _partial_ip(_clean(value))
    if finding.category == "secret" or finding.detector.startswith("secrets."):
        return _partial_secret(_clean(value))
    return None


def _first(part: str) -> str:
    # One character of a part of at least four: never most of it.
    return part[0] if len(part) >= 4 and part[0].isalnum() else "*"


def _partial_email(value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    tld = labels[-1]
    if not at or not local or len(labels) < 2 or not (tld.isascii() and tld.isalpha() and len(tld) <= 24):
        return None
    return f"{_first(local)}***@{_first(labels[-2])}***.{tld}"  # j***@e***.com


def _partial_iban(value: str) -> str | None:
    compact = value.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact.isascii() and compact[:2].isalpha() and compact[2:].isalnum()):
        return None
    return f"{compact[:2]}{_MASK}{compact[-4:]}"  # country code and last 4: DE****3000


def _partial_ip(value: str) -> str | None:
    if ":" in value:
        head = value.split(":", 1)[0]
        ok = 1 <= len(head) <= 4 and all(c in "0123456789abcdefABCDEF" for c in head)
        return f"{head}:{_MASK}" if ok else None  # the first 16 bits: 2001:****
    parts = value.split(".")
    if len(parts) == 4 and all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        return f"{parts[0]}.*.*.*"  # the first octet: 192.*.*.*
    return None


def _partial_secret(value: str) -> str | None:
    for prefix in _SECRET_PREFIXES:
        if value.startswith(prefix):
            return prefix + _MASK if len(value) >= len(prefix) + 8 else None
    scheme_end = value.find("://")
    scheme = value[:scheme_end]
    if (
        0 < scheme_end <= 20
        and scheme.isascii()
        and scheme[0].isalpha()
        and all(c.isalnum() or c in "+.-" for c in scheme)
    ):
        return f"{scheme}://{_MASK}"  # a URL with credentials: postgres://****
    return None
