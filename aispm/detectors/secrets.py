"""Credential detectors (output scanner, redaction).

Three kinds of rule, all linear in the input and anchored on cheap literal checks:

- Provider formats with a fixed, documented prefix (``AKIA``, ``ghp_``, ``glpat-``, ``xoxb-``,
  ``sk-ant-``, ...): a literal search, then one bounded regular expression at each hit.
  A body of fewer than eight distinct characters (``ghp_xxxx...``) is a documentation
  placeholder, not a key, and is not reported.
- Structures: PEM/OpenSSH/PGP/PuTTY private key blocks, JWTs (the header must decode to
  JSON with ``alg``), URLs that carry ``user:password@``.
- Assignments in config and code (``PASSWORD=...``, ``"api_key": "..."``, ``--password x``),
  found from the key words ``pass``, ``pwd``, ``secret``, ``token``, ``key``, ``auth`` and
  ``cred`` on the lower-cased view. Only the value is reported, so the redacted text still reads
  ``password = "[REDACTED:PASSWORD]"``; placeholders, references and look-alikes (UUIDs,
  hashes, versions, paths, numbers) are left alone.

Data patterns read ``ScanText.data`` (NFKC, invisible characters removed), so fullwidth
letters or a zero-width space inside a key hide nothing; offsets are mapped back to the
original text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping

from ..decisions import Finding, Severity
from ._findings import ATLAS_DATA_LEAKAGE, ATLAS_UNSECURED_CREDENTIALS, OWASP_SENSITIVE_INFORMATION, located
from ._normalize import ScanText
from ._protocol import Detector

__all__ = [
    "anthropic_key",
    "aws_access_key",
    "aws_secret_key",
    "basic_auth_url",
    "database_url",
    "generic_secret",
    "github_token",
    "gitlab_token",
    "google_api_key",
    "huggingface_token",
    "jwt",
    "npm_token",
    "openai_key",
    "password",
    "private_key",
    "sendgrid_key",
    "slack_token",
    "slack_webhook",
    "stripe_key",
    "twilio_key",
]

_MAPPINGS = (OWASP_SENSITIVE_INFORMATION, ATLAS_DATA_LEAKAGE, ATLAS_UNSECURED_CREDENTIALS)

_BOUNDARY = r"(?![A-Za-z0-9_-])"  # a token ends where its alphabet does


@functools.cache
def _rx(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled once, on first use: importing the module compiles nothing."""
    return re.compile(pattern)


def _diverse(match: str) -> bool:
    """False for documentation placeholders such as ``ghp_xxxxxxxx...`` or ``AKIAXXXXXXXXXXXXXXXX``.

    Every format ends in at least 16 random characters, which virtually always hold six
    distinct ones; the prefix does not count.
    """
    return len(set(match[-16:])) >= 6


class TokenDetector:
    """A credential format with a literal prefix: a lean `PatternDetector` for the common case.

    Each pattern starts with a literal (``re`` finds it with a fast scan) and is searched over
    ``ScanText.data``. ``needs`` lists characters that every match of every pattern holds, the
    rarest in technical text first (upper-case letters of a prefix: ``K`` of ``SK``, ``J`` of
    ``eyJ``): one memchr each, far cheaper than the pattern's scan, so most texts cost a few
    of them. ``family``, if given, is a pattern every match holds as well, shared by the
    detectors of one family of formats (`_UNDERSCORE_FAMILY`, `_HYPHEN_FAMILY`): it is searched
    once per text for all of them. Matches go through
    ``validate`` (placeholders like ``ghp_xxxx...`` are rejected) and must not overlap. A
    match in which a group named in ``group_scores`` took part gets that group's confidence
    (one pattern, one scan of the text, for formats that differ only in how much they matter).
    """

    __slots__ = ("_confidence", "_family", "_id", "_needs", "_patterns", "_severity", "_validate")
    category = "secret"

    def __init__(
        self,
        id: str,
        patterns: tuple[str, ...],
        needs: str,
        confidence: float,
        *,
        severity: Severity = Severity.CRITICAL,
        validate: Callable[[str], bool] = _diverse,
        group_scores: Mapping[str, float] | None = None,
        family: str = "",
    ) -> None:
        self._id = id
        self._family = family
        compiled = [re.compile(p) for p in patterns]
        scores = group_scores or {}
        # Per pattern, the scored groups it has (a pattern need not have them all).
        self._patterns = tuple((r, tuple((g, scores[g]) for g in r.groupindex if g in scores)) for r in compiled)
        self._confidence = confidence
        self._needs = needs
        self._severity = severity
        self._validate = validate

    @property
    def id(self) -> str:
        """Stable dotted id."""
        return self._id

    def __repr__(self) -> str:
        return f"TokenDetector(id={self._id!r})"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return non-overlapping findings ordered by position."""
        data = text.data
        for needle in self._needs:  # plain memchr: cheaper than looking up a memo
            if needle not in data:
                return []
        if self._family and not _family_found(text, self._family):
            return []
        spans: list[tuple[int, int, float]] = []
        for regex, group_scores in self._patterns:
            match = regex.search(data)
            while match is not None:
                if self._validate(match.group()):
                    found = self._confidence
                    for group, group_score in group_scores:
                        if match.group(group) is not None:
                            found = group_score
                    spans.append((match.start(), match.end(), found))
                match = regex.search(data, match.end())
        return _findings(self._id, self._severity, text, spans) if spans else []


# What follows the "_" or "-" of a prefix in every format of a family: at least 20 characters of the
# token's alphabet ("sk_live_" + 20, "hf_" + 34, "github_pat_" + 82 of [A-Za-z0-9_]; "glpat-" + 20,
# "sk-proj-" + 40, "sk-ant-api03-" + 80). Technical prose has "_" and "-" but rarely such a run.
_UNDERSCORE_FAMILY = r"_[A-Za-z0-9_+/]{20}"
_HYPHEN_FAMILY = r"-[A-Za-z0-9_-]{20}"
_AWS_ID_FAMILY = r"A[A-Z0-9]{19}"  # an AWS key id: access keys, and the id before a secret (credentials CSV)


def _family_found(text: ScanText, family: str) -> bool:
    """Whether ``family`` matches in ``text.data``: searched once per text for every detector that asks."""
    return text.matches(_rx(family), "data")


def _findings(detector: str, severity: Severity, text: ScanText, spans: list[tuple[int, int, float]]) -> list[Finding]:
    """Findings for spans of ``text.data``: sorted, overlaps dropped, offsets mapped to the original."""
    return located(text, spans, detector=detector, category="secret", severity=severity, mappings=_MAPPINGS)


# -- provider formats ------------------------------------------------------------------------------


def aws_access_key() -> TokenDetector:
    """``secrets.aws_access_key``: AWS access key ids (``AKIA...``, ``ASIA...``) and other AWS unique ids."""
    return TokenDetector(
        "secrets.aws_access_key",
        # Starts with the literal "A" (found with memchr); the look-behind then checks the token start.
        (r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|NPA|NVA|IPA|3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])",),
        "A",
        0.95,
        family=_AWS_ID_FAMILY,
    )


def github_token() -> TokenDetector:
    """``secrets.github_token``: GitHub personal, OAuth, app and refresh tokens."""
    return TokenDetector(
        "secrets.github_token",
        (
            # One literal ("g") for both forms: one scan of the text.
            r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])",
        ),
        # Every token holds "_" ("ghp_", "github_pat_"); one memchr is cheaper than a search for "gh".
        "_",
        0.99,
        family=_UNDERSCORE_FAMILY,
    )


def gitlab_token() -> TokenDetector:
    """``secrets.gitlab_token``: GitLab personal, deploy, runner, trigger, CI, feed and OAuth tokens."""
    return TokenDetector(
        "secrets.gitlab_token",
        (
            # glpat- (personal/project/group), gldt- (deploy), glrt- (runner), glptt- (pipeline trigger),
            # glcbt- (CI job), glimt- (incoming mail), glsoat- (SCIM), glffct- (feature flags client),
            # glft- (feed), glagent- (agent), gloas- (OAuth app secret); routable tokens end in ".xx" + 7.
            r"gl(?<![A-Za-z0-9_]gl)(?:pat|dt|rt|ptt|cbt|imt|soat|ffct|ft|agent|oas)-"
            r"[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?" + _BOUNDARY,
        ),
        "-",
        0.95,
        family=_HYPHEN_FAMILY,
    )


def slack_token() -> TokenDetector:
    """``secrets.slack_token``: Slack bot, user, app, refresh, configuration and app-level tokens."""
    return TokenDetector(
        "secrets.slack_token",
        (
            r"x(?<![A-Za-z0-9_]x)(?:ox(?:[abeoprs]|e\.xox[bp])-[0-9]{1,20}-[0-9A-Za-z-]{8,250}"
            r"|app-[0-9]-[A-Z0-9]{1,20}-[0-9]{1,20}-[A-Za-z0-9]{16,128})" + _BOUNDARY,
        ),
        "x-",
        0.95,
    )


def slack_webhook() -> TokenDetector:
    """``secrets.slack_webhook``: Slack incoming-webhook and workflow URLs (the URL is the credential)."""
    return TokenDetector(
        "secrets.slack_webhook",
        (
            r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"T[A-Z0-9]{6,12}/[A-Za-z0-9]{6,24}/[A-Za-z0-9/]{16,80}(?![A-Za-z0-9/])",
        ),
        "kT:/",
        0.95,
        severity=Severity.HIGH,
    )


def stripe_key() -> TokenDetector:
    """``secrets.stripe_key``: Stripe live secret and restricted keys, webhook secrets; test keys at 0.8."""
    return TokenDetector(
        "secrets.stripe_key",
        (
            # One pattern per literal prefix: `re` finds a literal fast, a leading character class slowly.
            r"sk_(?<![A-Za-z0-9_]sk_)(?:live|(?P<test>test))_[0-9A-Za-z]{20,247}" + _BOUNDARY,
            r"rk_(?<![A-Za-z0-9_]rk_)(?:live|(?P<test>test))_[0-9A-Za-z]{20,247}" + _BOUNDARY,
            r"whsec_(?<![A-Za-z0-9_]whsec_)(?P<webhook>[A-Za-z0-9+/]{32,128})={0,2}(?![A-Za-z0-9+/=])",
        ),
        "_",
        0.95,
        # Test-mode keys move no money but open the test account's data: strict level only.
        group_scores={"test": 0.8, "webhook": 0.9},
        family=_UNDERSCORE_FAMILY,
    )


def google_api_key() -> TokenDetector:
    """``secrets.google_api_key``: Google API keys (``AIza`` and 35 characters)."""
    return TokenDetector(
        "secrets.google_api_key",
        (r"AIza(?<![A-Za-z0-9_-]AIza)[0-9A-Za-z_-]{35}" + _BOUNDARY,),
        "zIA",
        0.95,
    )


def openai_key() -> TokenDetector:
    """``secrets.openai_key``: OpenAI project, service-account, admin and legacy user keys."""
    return TokenDetector(
        "secrets.openai_key",
        (
            # Project, service-account and admin keys; legacy user keys: 20 + the base64 of
            # "OpenAI" (T3BlbkFJ) + 20.
            r"sk-(?<![A-Za-z0-9_-]sk-)(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{40,250}"
            r"|(?P<legacy>[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))" + _BOUNDARY,
        ),
        "k-",
        0.95,
        group_scores={"legacy": 0.99},
        family=_HYPHEN_FAMILY,
    )


def anthropic_key() -> TokenDetector:
    """``secrets.anthropic_key``: Anthropic API, admin and OAuth keys (``sk-ant-api03-...``)."""
    return TokenDetector(
        "secrets.anthropic_key",
        (r"sk-ant-(?<![A-Za-z0-9_-]sk-ant-)[a-z]{3,5}[0-9]{2}-[A-Za-z0-9_-]{80,120}" + _BOUNDARY,),
        "k-",
        0.99,
        family=_HYPHEN_FAMILY,
    )


def huggingface_token() -> TokenDetector:
    """``secrets.huggingface_token``: Hugging Face user tokens (``hf_``) and organisation API tokens."""
    return TokenDetector(
        "secrets.huggingface_token",
        (
            r"hf_(?<![A-Za-z0-9_]hf_)[A-Za-z0-9]{34}" + _BOUNDARY,
            r"api_org_(?<![A-Za-z0-9_]api_org_)[A-Za-z0-9]{34}" + _BOUNDARY,
        ),
        "_",
        0.9,
        family=_UNDERSCORE_FAMILY,
    )


def npm_token() -> TokenDetector:
    """``secrets.npm_token``: npm access tokens (``npm_`` and 36 characters)."""
    return TokenDetector(
        "secrets.npm_token",
        (r"npm_(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}" + _BOUNDARY,),
        "m_",
        0.95,
        family=_UNDERSCORE_FAMILY,
    )


def sendgrid_key() -> TokenDetector:
    """``secrets.sendgrid_key``: SendGrid API keys (``SG.`` 22 ``.`` 43)."""
    return TokenDetector(
        "secrets.sendgrid_key",
        (r"SG\.(?<![A-Za-z0-9_.-]SG\.)[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _BOUNDARY,),
        "G.S",
        0.99,
    )


def twilio_key() -> TokenDetector:
    """``secrets.twilio_key``: Twilio API key SIDs (``SK`` and 32 hex digits), which pair with a secret."""
    return TokenDetector(
        "secrets.twilio_key",
        (r"SK(?<![A-Za-z0-9_]SK)[0-9a-f]{32}(?![A-Za-z0-9_])",),
        "KS",
        0.85,
        severity=Severity.HIGH,
    )


# -- JSON Web Tokens -------------------------------------------------------------------------------


def _jwt_header(match: str) -> bool:
    """The header (first part) is base64url of a JSON object naming its ``alg``."""
    header = match.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False
    return isinstance(value, dict) and "alg" in value


def jwt() -> TokenDetector:
    """``secrets.jwt``: JSON Web Tokens (JWS compact form) whose header decodes to JSON with ``alg``."""
    return TokenDetector(
        "secrets.jwt",
        # "eyJ" is the base64 of '{"'. Parts are bounded (real tokens are far shorter); the
        # look-behind keeps a run of "eyJeyJ..." from starting a match at every "eyJ".
        (r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{12,2000}\.[A-Za-z0-9_-]{2,16000}\.[A-Za-z0-9_-]{0,1000}" + _BOUNDARY,),
        "J.y",
        0.95,
        severity=Severity.HIGH,
        validate=_jwt_header,
    )


# -- private keys ----------------------------------------------------------------------------------

_PEM_BEGIN = r"-----BEGIN ((?:[A-Z0-9]{1,12} ){0,3})PRIVATE KEY( BLOCK)?-----"
_SSH2_BEGIN = "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
_SSH2_END = "---- END SSH2 ENCRYPTED PRIVATE KEY ----"
_PUTTY_BEGIN = "PuTTY-User-Key-File-"
_PUTTY_ENDS = ("Private-MAC: ", "Private-Hash: ")
_AGE_KEY = r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}(?![A-Z0-9])"
_BODY_LIMIT = 64 * 1024  # larger than any real key; bounds the search for the end of a block


class PrivateKey:
    """``secrets.private_key``: private key blocks.

    PEM (RSA, EC, DSA, PKCS#8, encrypted, OpenSSH, PGP), SSH2 (ssh.com), PuTTY ``.ppk`` files
    and age secret keys. A block is redacted from its first line to its last; a block whose
    end is missing (a truncated answer, a stream cut short) is redacted to the end of the text,
    because its body is the secret.
    """

    id = "secrets.private_key"
    category = "secret"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per private key block."""
        # Every kind of block holds "K" and "Y" ("KEY", "PuTTY-User-Key") and a "-": three memchr
        # calls settle most texts, before any search for a multi-character marker.
        data = text.data
        if "Y" not in data or "K" not in data or "-" not in data:
            return []
        spans: list[tuple[int, int, float]] = []
        if "----" in data and "PRIVATE KEY" in data:
            pos = 0
            while (match := _rx(_PEM_BEGIN).search(data, pos)) is not None:
                end_line = f"-----END {match.group(1)}PRIVATE KEY{match.group(2) or ''}-----"
                pos = self._block(data, match.start(), match.end(), (end_line,), spans, line=False)
            pos = 0
            while (at := data.find(_SSH2_BEGIN, pos)) >= 0:
                pos = self._block(data, at, at + len(_SSH2_BEGIN), (_SSH2_END,), spans, line=False)
        pos = 0
        while (at := data.find(_PUTTY_BEGIN, pos)) >= 0:
            pos = self._block(data, at, at + len(_PUTTY_BEGIN), _PUTTY_ENDS, spans, line=True)
        if "SECRET-KEY-" in data:
            spans.extend((m.start(), m.end(), 1.0) for m in _rx(_AGE_KEY).finditer(data))
        return _findings(self.id, Severity.CRITICAL, text, spans) if spans else []

    @staticmethod
    def _block(
        data: str, start: int, body: int, ends: tuple[str, ...], spans: list[tuple[int, int, float]], *, line: bool
    ) -> int:
        """Record the block from ``start`` to its end marker (to the end of its line with ``line``)."""
        limit = min(len(data), body + _BODY_LIMIT)
        found = [i for i in (data.find(end, body, limit) for end in ends) if i >= 0]
        if not found:
            spans.append((start, len(data), 0.9))
            return len(data)
        end = min(found)
        if line:
            newline = data.find("\n", end, limit)
            stop = limit if newline < 0 else newline
        else:
            stop = end + len(next(e for e in ends if data.startswith(e, end)))
        spans.append((start, stop, 1.0))
        return stop


def private_key() -> PrivateKey:
    """``secrets.private_key`` detector."""
    return PrivateKey()


# -- URLs with credentials ---------------------------------------------------------------------------

_DATABASE_SCHEMES = frozenset(
    {
        "postgres", "postgresql", "pgsql", "mysql", "mariadb", "mongodb", "redis", "rediss", "amqp",
        "amqps", "mssql", "sqlserver", "oracle", "cockroachdb", "clickhouse", "cassandra", "couchdb",
        "neo4j", "bolt", "memcached", "db2", "snowflake", "influxdb", "nats",
    }
)  # fmt: skip
# The scheme that ends where "://" starts (found with a search bounded to 32 characters).
_SCHEME_BEFORE = r"[A-Za-z][A-Za-z0-9+.-]{0,30}\Z"
_URL_AFTER_SCHEME = (
    r"://(?P<user>[^\s:@/?#\"'<>`\[\]{}|\\^]{0,128}):(?P<password>[^\s@/?#\"'<>`]{1,128})@"
    r"(?P<host>[A-Za-z0-9._~%\[\]:-]{1,255})(?P<rest>[/?#][^\s\"'<>`]{0,2048})?"
)
_URL_TRAILING = ".,;:!?)]}*"  # sentence punctuation after a URL is not part of it


class CredentialUrl:
    """URLs that carry ``user:password@``: ``secrets.database_url`` or ``secrets.basic_auth_url``.

    The whole URL is the finding (host and database name help an attacker use the password),
    so it is redacted as ``[REDACTED:DATABASE_URL]``; partial redaction keeps ``scheme://****``.
    URLs whose password is a placeholder (``${DB_PASSWORD}``, ``<password>``, ``password``,
    ``****``) are not reported.
    """

    __slots__ = ("_confidence", "_database", "_id")
    category = "secret"

    def __init__(self, id: str, *, database: bool, confidence: float) -> None:
        self._id = id
        self._database = database
        self._confidence = confidence

    @property
    def id(self) -> str:
        """Stable dotted id."""
        return self._id

    def __repr__(self) -> str:
        return f"CredentialUrl(id={self._id!r})"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per URL with a password, ordered by position."""
        # "@" and "/" first: one memchr each, where a search for "://" costs a pass over the text
        # (memoised: both URL detectors ask).
        data = text.data
        if "@" not in data or "/" not in data or not text.contains("://", view="data"):
            return []
        findings: list[Finding] = []
        pos = 0
        while (at := data.find("://", pos)) >= 0:
            pos = at + 3
            if data.find("@", at, at + 260) < 0:
                continue  # no user:password@ (the bound covers the longest user and password)
            match = _rx(_URL_AFTER_SCHEME).match(data, at)
            if match is None:
                continue
            scheme_match = _rx(_SCHEME_BEFORE).search(data, max(0, at - 31), at)
            if scheme_match is None:
                continue
            scheme = scheme_match.group().lower().split("+", 1)[0]
            if scheme.startswith("jdbc"):
                scheme = scheme[4:]
            if (scheme in _DATABASE_SCHEMES) is not self._database or _placeholder(match.group("password")):
                continue
            end = match.end()
            while end > match.end("host") and data[end - 1] in _URL_TRAILING:
                end -= 1
            pos = end
            start, end = text.span_to_original(scheme_match.start(), end)
            findings.append(
                Finding(
                    detector=self._id,
                    category=self.category,
                    severity=Severity.CRITICAL,
                    start=start,
                    end=end,
                    confidence=self._confidence,
                    mappings=_MAPPINGS,
                )
            )
        return findings


def database_url() -> CredentialUrl:
    """``secrets.database_url``: database and broker URLs with a password (postgres, mysql, mongodb, redis, ...)."""
    return CredentialUrl("secrets.database_url", database=True, confidence=0.95)


def basic_auth_url() -> CredentialUrl:
    """``secrets.basic_auth_url``: other URLs (http, https, ftp, ssh, smtp, ...) with ``user:password@``."""
    return CredentialUrl("secrets.basic_auth_url", database=False, confidence=0.9)


# -- assignments -------------------------------------------------------------------------------------

# A key word, the rest of the key, a closing quote or bracket, an operator, and a value (quoted,
# or up to whitespace and separators). Matched on the skeleton view from the key word on.
# Quantifiers are bounded and possessive (``{0,48}+``): a failed attempt gives nothing back,
# so it costs a few steps, and the key word is a literal prefix `re` scans for in C.
_VALUE = (
    r"(?:\"(?P<dq>[^\"\r\n]{1,256})\"|'(?P<sq>[^'\r\n]{1,256})'|`(?P<bq>[^`\r\n]{1,256})`"
    r"|(?P<uq>[^\s\"'`,;&<>]{1,256}))"
)
_ASSIGNMENT_TAIL = (
    r"(?P<rest>[\w.-]{0,48}+)(?P<close>[\"'`]?\]?)[ \t]{0,8}+"
    r"(?P<op>:=|=>|\?=|=(?!=)|:(?![:/\\])|>)[ \t]{0,8}+" + _VALUE
)
# A command-line flag takes its value after a space: "--db-password hunter2".
# A flag's name starts with a letter or digit right after its two dashes: "-----" (a divider, a PEM
# armour line) is no flag, and read as one it would swallow an assignment that follows it.
_FLAG = r"(?<!-)--(?P<rest>[a-z0-9][\w.-]{0,47}+)(?P<close>)(?P<op>[ \t])[ \t]{0,4}+" + _VALUE
_KEY_CHARS = r"[\w.-]*\Z"
# Characters of a key (lower case: keys are read on the folded view). The key starts where they
# stop, at most 48 characters before the key word: one `str.rstrip` finds it.
_KEY_CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789_.-"
_KEY_PARTS = r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+"
_KEY_PARTS_FOLDED = r"[a-z0-9]+"
_PASSWORD_ANCHORS = ("pass", "pwd")
_SECRET_ANCHORS = ("secret", "token", "key", "auth")

# Key parts that make a key name metadata about a credential, not the credential.
_META_PARTS = frozenset(
    {
        "hash", "hashed", "digest", "length", "len", "min", "max", "policy", "reset", "field", "label",
        "prompt", "placeholder", "hint", "regex", "pattern", "rule", "rules", "strength", "expiry",
        "expires", "expiration", "expire", "age", "file", "path", "dir", "url", "uri", "endpoint", "env",
        "var", "name", "names", "id", "ids", "type", "format", "encoding", "algorithm", "algo", "enabled",
        "required", "changed", "updated", "mode", "count", "attempts", "retries", "timeout", "visible",
        "input", "form", "manager", "validator", "validation", "check", "tokens", "tokenizer", "usage",
        "limit", "ttl", "lifetime", "header", "prefix", "version", "arn", "ref", "public", "pub",
        "cache", "primary", "foreign", "sort", "partition", "schema", "index", "size", "bytes", "bits",
        "is", "has", "use", "show", "needs", "store", "location", "provider", "class", "method",
        "secretsmanager", "ssm", "param", "parameter", "kind", "scope", "scopes", "audience", "issuer",
        "desc", "description", "message", "msg", "title", "help", "doc", "docs", "comment", "tokenize",
        "tokenizers", "tokenization", "tokenized",
    }
)  # fmt: skip
_KEY_QUALIFIERS = frozenset(
    {
        "api", "access", "secret", "private", "auth", "signing", "sign", "encryption", "enc", "master",
        "app", "client", "service", "account", "subscription", "webhook", "consumer", "hmac", "jwt",
        "crypto", "shared", "deploy", "license", "session", "admin", "root", "x",
    }
)  # fmt: skip
_SECRET_PARTS = frozenset({"secret", "secrets", "token", "auth", "authorization", "credential", "credentials", "creds"})
_SECRET_JOINED = ("secret", "token", "apikey", "accesskey", "privatekey", "authkey", "credential")
_PASSWORD_JOINED = ("password", "passwd", "passphrase", "pwd")

# Values that stand for a credential rather than being one.
_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme", "changeit", "password", "passwd", "pass", "pwd", "secret", "token", "apikey", "key",
        "null", "none", "nil", "undefined", "true", "false", "yes", "no", "on", "off", "empty", "sample",
        "dummy", "test", "todo", "tbd", "fixme", "redacted", "hidden", "masked", "required", "optional",
        "string", "str", "int", "any", "bool", "text", "secretstr", "value", "default", "unknown", "na",
        "foo", "bar", "foobar", "username", "mypassword", "notasecret",
    }
)  # fmt: skip
_PLACEHOLDER_PARTS = ("your", "example", "placeholder", "changeme", "replace", "xxxx", "redacted", "insert")
_REFERENCE_MARKERS = ("${", "{{", "%(", "os.environ", "process.env", "getenv", "env(", "env[", "vault:")
_CODE_MARKERS = (*_REFERENCE_MARKERS, "(", "[")
_ATTRIBUTE = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\Z"
_IDENTIFIER = r"[A-Za-z_][A-Za-z_]*\Z"  # no digits: reads as a variable or type name
_AUTH_SCHEME = r"(?i:bearer|basic|token|digest) (?=\S)"


def _placeholder(value: str, *, code: bool = False) -> bool:
    """True for values that stand for a credential: templates, references, masks, stock words.

    With ``code`` (an unquoted value in code or config) YAML tags and anchors (``!vault``,
    ``*ref``), ``%VAR%`` and calls or subscripts (``getpass()``, ``env["X"]``) count too.
    """
    if not value or value[0] in "${<[*" or (code and value[0] in "!&%"):
        return True
    lower = value.lower()
    if lower in _PLACEHOLDER_WORDS or len(set(lower)) <= 2:
        return True
    if any(marker in lower for marker in _PLACEHOLDER_PARTS) or "***" in lower or "..." in lower:
        return True
    return any(marker in lower for marker in (_CODE_MARKERS if code else _REFERENCE_MARKERS))


class _Assignment:
    """One ``key <op> value`` found in the text; offsets index ``ScanText.data``."""

    __slots__ = ("end", "folded_key", "key", "op", "quoted", "start", "value")

    def __init__(self, key: str, folded_key: str, op: str, quoted: bool, start: int, end: int, value: str) -> None:
        self.key = key
        self.folded_key = folded_key
        self.op = op
        self.quoted = quoted
        self.start = start
        self.end = end
        self.value = value


@functools.cache
def _assignment_regex(anchor: str) -> re.Pattern[str]:
    """An assignment whose key holds ``anchor``, matched from the anchor on (a literal prefix)."""
    return re.compile(re.escape(anchor) + _ASSIGNMENT_TAIL)


def _in_skeleton(text: ScanText, word: str) -> bool:
    """Whether ``word`` (letters) occurs in the skeleton view; memoised for every detector.

    For the words several searches start from ("pass" and "pwd": assignments and prose;
    "secret": assignments and AWS keys). ``re`` scans for a literal faster than ``in`` does.
    """
    memo = text.memo(view="skeleton")
    found = memo.get(word)
    if found is None:
        found = memo[word] = _rx(word).search(text.skeleton) is not None
    return found


_SHARED_WORDS = frozenset({"pass", "pwd", "secret"})


def _may_assign(text: ScanText) -> bool:
    """Whether the text holds an assignment operator at all (memchr-fast; memoised for every detector)."""
    data = text.data
    return "=" in data or ":" in data or "<" in data or ("-" in data and text.contains("--", view="data"))


def _assignments(text: ScanText, anchors: tuple[str, ...]) -> list[_Assignment]:
    """Assignments whose key holds one of ``anchors``, in text order, each found once.

    Key words are found on ``text.skeleton``, which folds case, leetspeak and Latin
    look-alikes: ``PASSWORD``, ``p4ssw0rd`` and ``password`` spelt with Cyrillic look-alike
    letters are the same key word. The key itself is checked on ``text.folded``, where ``@``
    and ``$`` are still themselves (the skeleton reads them as ``a`` and ``s``).
    """
    if not _may_assign(text):
        return []
    skeleton = text.skeleton
    matches = [
        m
        for anchor in anchors
        if anchor not in _SHARED_WORDS or _in_skeleton(text, anchor)
        for m in _assignment_regex(anchor).finditer(skeleton)
    ]
    if text.contains("--", view="data"):
        # Both assignment detectors read the flags: a text without any is searched once.
        flag = _rx(_FLAG)
        if text.matches(flag, "skeleton"):
            matches.extend(flag.finditer(skeleton))
    if not matches:
        return []
    matches.sort(key=lambda m: m.start())
    folded, data = text.folded, text.data
    key_chars = _rx(_KEY_CHARS)
    found: list[_Assignment] = []
    done = -1  # a key word inside a key or value already parsed starts nothing new
    for match in matches:
        at, key_end = match.start(), match.end("rest")
        if at < done or not key_chars.match(folded, at, key_end):
            continue
        op = match.group("op")
        key_start = at
        if op not in " \t":  # a flag's key starts at its "--"
            lo = max(0, at - 48)
            key_start = lo + len(folded[lo:at].rstrip(_KEY_CHARSET))
        group = next(g for g in ("dq", "sq", "bq", "uq") if match.group(g) is not None)
        start, end = match.span(group)
        quoted = group != "uq"
        key = data[key_start:key_end]
        if not _well_formed(data, key_start, key, op, quoted, end, match.group("close")):
            continue
        done = match.end()
        value = data[start:end]
        scheme = _rx(_AUTH_SCHEME).match(value)
        if scheme is not None and quoted:  # "Authorization": "Bearer abc...": the credential follows the scheme
            start += scheme.end()
            value = value[scheme.end() :]
        if not quoted:
            while value and value[-1] in ".)]}":  # sentence punctuation after an unquoted value
                value = value[:-1]
                end -= 1
        if value:
            found.append(_Assignment(key, skeleton[key_start:key_end], op, quoted, start, end, value))
    return found


def _well_formed(data: str, key_start: int, key: str, op: str, quoted: bool, end: int, close: str) -> bool:
    """Shape checks that tell an assignment from prose that happens to hold a key word."""
    if op in " \t":  # "--password hunter2": only a command-line flag takes a bare space
        return key.startswith("--") and not close
    if op == ">":  # <password>hunter2</password>
        return key_start > 0 and data[key_start - 1] == "<" and data.startswith("</", end)
    if op == ":" and not quoted and not close:
        # "Note: password: see the wiki" is prose; a YAML value ends its line.
        rest = data[end : end + 64].lstrip(" \t")
        return not rest or rest[0] in "\r\n#,;}])"
    return True


def _key_parts(a: _Assignment) -> list[str]:
    """The parts of the key, lower-cased (camel case split on the original)."""
    return [p.lower() for p in _rx(_KEY_PARTS).findall(a.key)]


def _joined_key(a: _Assignment) -> str:
    """The folded key without separators."""
    return "".join(_rx(_KEY_PARTS_FOLDED).findall(a.folded_key))


# What a joined key holds when `_password_key` or `_secret_key` accepts it (every part of the key is
# in the joined key too): one substring test rules out most keys ("--upgrade") before they are split.
_PASSWORD_WORDS = ("pass", "pwd")
_SECRET_WORDS = ("secret", "token", "key", "auth", "cred")


def _password_key(parts: list[str], joined: str) -> bool:
    if any(p in _META_PARTS for p in parts):
        return False
    # "pass" alone is ambiguous (pass/fail): only as the last word of the key (DB_PASS, smtp_pass).
    return (parts[-1:] == ["pass"]) or joined == "pass" or any(word in joined for word in _PASSWORD_JOINED)


def _secret_key(parts: list[str], joined: str) -> bool:
    if any(p in _META_PARTS for p in parts):
        return False
    if any(p in _SECRET_PARTS for p in parts) or any(word in joined for word in _SECRET_JOINED):
        return True
    return any(p == "key" and i > 0 and parts[i - 1] in _KEY_QUALIFIERS for i, p in enumerate(parts))


class Password:
    """``secrets.password``: the value of a password assignment in config, code or a command line.

    ``PASSWORD=...``, ``"password": "..."``, ``password: ...`` (YAML, value ending its line),
    ``--password ...``, ``Password=...;`` (connection strings), ``<password>...</password>``.
    Placeholders and references (``changeme``, ``<password>``, ``${VAR}``, ``$VAR``,
    ``{{ var }}``, ``os.environ[...]``, ``process.env.X``, ``****``, ``None``) are not reported;
    an unquoted bare word without digits after ``=`` and a key that is not upper case
    (``password = user_input``) reads like code and scores 0.5.
    """

    id = "secrets.password"
    category = "secret"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per password value."""
        findings: list[Finding] = []
        for a in _assignments(text, _PASSWORD_ANCHORS):
            joined = _joined_key(a)
            if not any(word in joined for word in _PASSWORD_WORDS):
                continue
            if not _password_key(_key_parts(a), joined) or _placeholder(a.value, code=not a.quoted):
                continue
            if not a.quoted and _rx(_ATTRIBUTE).match(a.value):
                continue  # password = settings.db_password
            # An unquoted bare word in code (password = user_input) is likely a variable; in an
            # environment file (PASSWORD=letmein), YAML (password: letmein) or a flag it is a value.
            code_like = a.op in ("=", ":=", "=>") and not a.key.lstrip("-").isupper()
            weak = code_like and not a.quoted and _rx(_IDENTIFIER).match(a.value) is not None
            findings.append(_finding(self.id, text, a, 0.5 if weak else 0.9))
        spans = [(f.start or 0, f.end or 0) for f in findings]
        for start, end, score in _prose_passwords(text):
            lo, hi = text.span_to_original(start, end)
            if not any(a < hi and lo < b for a, b in spans):
                findings.append(Finding(self.id, "secret", Severity.HIGH, lo, hi, confidence=score, mappings=_MAPPINGS))
        findings.sort(key=lambda f: f.start or 0)
        return findings


# "The admin password is Xk9#pq2!", "login: bob / password: hunter2!" (mid-line): a password
# word, a verb or colon, then one token that is not a word, a number or a placeholder.
_PROSE_WORDS = ("password", "passwd", "passcode", "passphrase", "pwd")
_PROSE_TAIL = (
    r"(?:\s{1,3}(?:is|was|remains|will be)\s{1,3}|\s{0,3}[:=]\s{0,3})[\"'\u201c\u2018]?"
    r"(?P<value>[^\s\"'<>\u201c\u201d\u2018\u2019]{6,64})"
)
_TRAILING = ".,;:)]}"  # sentence punctuation; "!" and "?" are common in passwords


def _prose_passwords(text: ScanText) -> list[tuple[int, int, float]]:
    """Spans of ``text.data`` holding a password stated in prose; each word found with ``str.find``."""
    # Every word holds "pass" or "pwd", which then occur in the skeleton too (it maps no letters
    # but look-alikes): the assignment search has already asked.
    if not (_in_skeleton(text, "pass") or _in_skeleton(text, "pwd")):
        return []
    folded = text.folded
    data, tail = text.data, _rx(_PROSE_TAIL)
    found: list[tuple[int, int, float]] = []
    for word in _PROSE_WORDS:
        at = folded.find(word)
        while at >= 0:
            end = at + len(word)
            if at == 0 or not folded[at - 1].isalnum():
                m = tail.match(data, end)
                if m is not None:
                    value = m["value"].rstrip(_TRAILING)
                    classes = sum(
                        (any(c.islower() for c in value), any(c.isupper() for c in value),
                         any(c.isdigit() for c in value), any(not c.isalnum() for c in value))
                    )  # fmt: skip
                    plain = _rx(_WORDS).match(value) or _rx(_NUMBERISH).match(value) or "://" in value
                    if len(value) >= 6 and classes >= 2 and not plain and not _placeholder(value, code=True):
                        start = m.start("value")
                        found.append((start, start + len(value), 0.85 if classes >= 3 else 0.7))
            at = folded.find(word, end)
    return found


def password() -> Password:
    """``secrets.password`` detector."""
    return Password()


# Look-alikes: values of a credential-named key that are not credentials.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
_HEX = r"[0-9a-fA-F]+\Z"
_VERSION = r"v?[0-9]+(?:\.[0-9]+)+(?:[-+.][0-9A-Za-z.]+)?\Z"
_NUMBERISH = r"[0-9 ./:+-]+\Z"  # order and tracking numbers, dates, times, amounts
_PATH = r"(?:[A-Za-z]:\\|\.{0,2}/|~/)[\w .\\/-]*\Z"
# Words: snake/kebab/dotted case, upper snake case, camel case (each group starts at a capital,
# so there is one way to split and no backtracking).
_WORDS = r"[a-z]+(?:[_.-][a-z]+)*\Z|[A-Z]+(?:[_.-][A-Z]+)*\Z|[a-z]*(?:[A-Z][a-z]+){1,8}\Z"
_WORD_PARTS = r"[A-Z]?[a-z]+|[A-Z]+"
_PATH_SPLIT = r"[/\\]"
_PATH_PART = r"(?:[A-Za-z]:|[A-Z]?[a-z0-9 ._~-]+)\Z"  # lower case or Capitalised, as people name files
_VALUE_CHARS = r"[A-Za-z0-9+/=_.~-]+\Z"
# Provider prefixes: a value starting with one is left to its provider's detector (and placeholder).
_PROVIDER_PREFIXES = (
    "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "xapp-",
    "sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_", "AIza", "sk-", "hf_", "npm_", "SG.", "eyJ",
)  # fmt: skip
MIN_ENTROPY = 3.0
"""Shannon entropy (bits per character) a generic secret needs; random base62 of 16 has about 3.7."""


def _words(value: str) -> bool:
    """``snake_case_words``, ``UPPER_WORDS``, ``camelCaseWords`` (each part with a vowel, unlike random letters)."""
    if _rx(_WORDS).match(value) is None:
        return False
    return all(any(v in part for v in "aeiouyAEIOUY") for part in _rx(_WORD_PARTS).findall(value))


def _path(value: str) -> bool:
    r"""``/etc/ssl/private.key``, ``C:\keys\app.pem``; not base64 that happens to start with ``/``."""
    if _rx(_PATH).match(value) is None or (value.count("/") + value.count("\\") < 2 and "." not in value):
        return False
    return all(_rx(_PATH_PART).match(part) for part in _rx(_PATH_SPLIT).split(value) if part)


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` under its own character frequencies."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _generic_score(value: str) -> float | None:
    """Confidence that ``value`` (of a credential-named key) is a secret, or ``None`` for a look-alike."""
    if not 16 <= len(value) <= 256 or value.startswith(_PROVIDER_PREFIXES) or not _rx(_VALUE_CHARS).match(value):
        return None
    if _rx(_VERSION).match(value) or _rx(_NUMBERISH).match(value) or _words(value) or _path(value):
        return None
    if "/" in value and value.replace("/", "").replace("-", "").replace("_", "").replace(".", "").islower():
        return None  # a relative path: some/dir/file.txt
    if _rx(_UUID).match(value) or (_rx(_HEX).match(value) and len(value) in (32, 40, 64)):
        # Hash-shaped: as often a digest or id as a hex API key. Strict level only.
        return 0.5
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value)))
    if classes < 2 or shannon_entropy(value) < MIN_ENTROPY:
        return None
    return 0.85


class GenericSecret:
    """``secrets.generic_secret``: a high-entropy value assigned to a key that names a credential.

    Keys: ``secret``, ``token``, ``api_key``/``apikey``, ``access_key``, ``client_secret``,
    ``auth``, ``credentials``, ``private_key`` and other ``<qualifier>_key``s. The value must be
    16-256 token characters of at least two classes (lower, upper, digit) with Shannon entropy
    of at least `MIN_ENTROPY`. Look-alikes are suppressed (versions, numbers, dates, paths,
    words, URLs, values with a provider prefix, which their own detector names); UUIDs and
    hash-length hex strings score 0.5 (strict level only).
    """

    id = "secrets.generic_secret"
    category = "secret"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per high-entropy credential value."""
        findings: list[Finding] = []
        for a in _assignments(text, _SECRET_ANCHORS):
            joined = _joined_key(a)
            if not any(word in joined for word in _SECRET_WORDS):
                continue
            parts = _key_parts(a)
            if (
                not _secret_key(parts, joined)
                or _password_key(parts, joined)
                or _placeholder(a.value, code=not a.quoted)
            ):
                continue
            if _rx(_ATTRIBUTE).match(a.value):
                continue  # OID_CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH, "spacy.th.ThaiTokenizer"
            score = _generic_score(a.value)
            if score is not None:
                findings.append(_finding(self.id, text, a, score))
        return findings


def generic_secret() -> GenericSecret:
    """``secrets.generic_secret`` detector."""
    return GenericSecret()


def _finding(detector: str, text: ScanText, a: _Assignment, confidence: float) -> Finding:
    start, end = text.span_to_original(a.start, a.end)
    return Finding(
        detector=detector,
        category="secret",
        severity=Severity.HIGH,
        start=start,
        end=end,
        confidence=confidence,
        mappings=_MAPPINGS,
    )


# -- AWS secret access keys --------------------------------------------------------------------------

# After "secret" in the lower-cased view: the rest of an AWS key name (words may be spaced in
# prose), an operator, and exactly 40 base64 characters.
_AWS_CONTEXT = (
    r"secret[\w .-]{0,24}?[\"'`\]]{0,2}[ \t]{0,8}(?:=>|:=|=|:|[ \t]is[ \t]|[ \t])[ \t]{0,8}[\"'`]?"
    r"(?P<value>[a-z0-9/+]{40})(?![a-z0-9/+=])"
)
# A key id followed by its secret, as in the credentials CSV AWS offers for download.
_AWS_PAIR = r"A(?<![A-Za-z0-9]A)[A-Z0-9]{19}[\s,;:|\"'=]{1,8}(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
_AWS_KEY_ID = r"A(?:KIA|SIA)[A-Z2-7]{16}\Z"
_AWS_VALUE = r"[A-Za-z0-9/+]{40}\Z"


def _aws_secret_shape(value: str) -> bool:
    # AWS secrets are random base64: both cases virtually always occur; a 40-hex git SHA has no upper case.
    return any(c.isupper() for c in value) and any(c.islower() for c in value) and len(set(value)) >= 16


class AwsSecretKey:
    """``secrets.aws_secret_key``: 40-character AWS secret access keys, only in AWS context.

    Context is a key name such as ``aws_secret_access_key``, ``AWS_SECRET_KEY``,
    ``SecretAccessKey`` (``secret`` with ``aws`` just before it or ``access`` in it), or an
    access key id right before the value (the downloadable credentials CSV).
    """

    id = "secrets.aws_secret_key"
    category = "secret"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per AWS secret access key."""
        spans: list[tuple[int, int, float]] = []
        data = text.data
        # Found on the skeleton (case folded, look-alikes mapped); the value is checked on the data.
        # Prose counts too: "your AWS secret access key is ...".
        skeleton = text.skeleton
        for match in _rx(_AWS_CONTEXT).finditer(skeleton) if _in_skeleton(text, "secret") else ():
            name = skeleton[max(0, match.start() - 8) : match.start("value")]
            start, end = match.span("value")
            value = data[start:end]
            if ("aws" in name or "access" in name) and _rx(_AWS_VALUE).match(value) and _aws_secret_shape(value):
                spans.append((start, end, 0.9))
        pairs = _rx(_AWS_PAIR)
        pair = pairs.search(data) if "A" in data and _family_found(text, _AWS_ID_FAMILY) else None
        while pair is not None:
            key_id = data[pair.start() : pair.start() + 20]
            if _rx(_AWS_KEY_ID).match(key_id) and _aws_secret_shape(pair.group("value")):
                spans.append((*pair.span("value"), 0.9))
            pair = pairs.search(data, pair.start() + 1)
        return _findings(self.id, Severity.CRITICAL, text, spans) if spans else []


def aws_secret_key() -> AwsSecretKey:
    """``secrets.aws_secret_key`` detector."""
    return AwsSecretKey()


DETECTORS: Mapping[str, Callable[[], Detector]] = {
    "secrets.anthropic_key": anthropic_key,
    "secrets.aws_access_key": aws_access_key,
    "secrets.aws_secret_key": aws_secret_key,
    "secrets.basic_auth_url": basic_auth_url,
    "secrets.database_url": database_url,
    "secrets.generic_secret": generic_secret,
    "secrets.github_token": github_token,
    "secrets.gitlab_token": gitlab_token,
    "secrets.google_api_key": google_api_key,
    "secrets.huggingface_token": huggingface_token,
    "secrets.jwt": jwt,
    "secrets.npm_token": npm_token,
    "secrets.openai_key": openai_key,
    "secrets.password": password,
    "secrets.private_key": private_key,
    "secrets.sendgrid_key": sendgrid_key,
    "secrets.slack_token": slack_token,
    "secrets.slack_webhook": slack_webhook,
    "secrets.stripe_key": stripe_key,
    "secrets.twilio_key": twilio_key,
}
"""This module's detector factories by id (merged into ``aispm.detectors.BUILTIN``)."""
