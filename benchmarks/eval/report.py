"""Render an evaluation report (the dict `run.main` builds) as Markdown, and check it against the targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.eval import datasets, synthetic


def shorten(text: str, n: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _rp(summary: dict[str, Any]) -> str:
    return f"{_pct(summary['recall'])} / {_pct(summary['precision'])}"


def markdown(report: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    add("# aispm development evaluation\n")
    add(
        "> Development evaluation: the detectors were written with knowledge of these datasets' attack "
        "families, so these figures are optimistic for unseen attacks.\n"
    )
    meta = report["meta"]
    add(
        f"Run {meta['date']} on {meta['platform']}, Python {meta['python']}; seed {meta['seed']}; "
        f"{'quick' if meta['quick'] else 'full'} mode. Versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + ".\n"
    )
    for note in meta["notes"]:
        add(f"- {note}")
    prompt = report.get("prompt")
    if prompt:
        add("\n## Prompt injection (aispm prompt guard)\n")
        names = list(prompt["configs"])
        add("| family | n | " + " | ".join(names) + " |")
        add("|---|---:|" + "---:|" * len(names))
        first = prompt["configs"][names[0]]["families"]
        for family in [*datasets.ATTACK_FAMILIES, *datasets.BENIGN_FAMILIES, *datasets.INFO_FAMILIES]:
            if family not in first:
                continue
            kind = (
                "attack"
                if family in datasets.ATTACK_FAMILIES
                else "benign (FP)"
                if family in datasets.BENIGN_FAMILIES
                else "info"
            )
            cells = [_pct(prompt["configs"][n]["families"][family]["rate"]) for n in names]
            add(f"| {family} ({kind}) | {first[family]['n']} | " + " | ".join(cells) + " |")
        add(
            "| **detection rate (all attacks)** | "
            + str(prompt["configs"][names[0]]["attacks"])
            + " | "
            + " | ".join(f"**{_pct(prompt['configs'][n]['detection_rate'])}**" for n in names)
            + " |"
        )
        add(
            "| detection rate (mean over families) | | "
            + " | ".join(_pct(prompt["configs"][n]["macro_detection_rate"]) for n in names)
            + " |"
        )
        add(
            "| **false-positive rate (benign)** | "
            + str(prompt["configs"][names[0]]["benign"])
            + " | "
            + " | ".join(f"**{_pct(prompt['configs'][n]['false_positive_rate'])}**" for n in names)
            + " |"
        )
        add(
            "| encoding, among attacks caught when not encoded | "
            + str(prompt["configs"][names[0]]["encoded_when_plain_detected"]["n"])
            + " | "
            + " | ".join(_pct(prompt["configs"][n]["encoded_when_plain_detected"]["rate"]) for n in names)
            + " |"
        )
        add("\nPer source (default policy):\n")
        add("| source | n | detected / flagged |")
        add("|---|---:|---:|")
        default = prompt["configs"][names[0]]
        conditional = default["encoded_when_plain_detected_by_source"]
        for source, row in default["sources"].items():
            extra = ""
            if source in conditional:
                extra = (
                    f" ({_pct(conditional[source]['rate'])} of {conditional[source]['n']} whose plain text is caught)"
                )
            add(f"| {source} | {row['n']} | {_pct(row['rate'])}{extra} |")
    pii = report.get("pii")
    if pii:
        add("\n## PII and secrets: recall / precision per type\n")
        tools = list(pii["tools"])
        add(
            f"{pii['positives']} labelled values ({pii['per_type']} per type) and "
            f"{pii['negatives']} look-alike-only texts.\n"
        )
        add("| type | " + " | ".join(tools) + " |")
        add("|---|" + "---|" * len(tools))
        for kind in synthetic.TYPES:
            cells = []
            for name in tools:
                row = pii["tools"][name]["per_type"][kind]
                if not row["supported"] and not name.startswith("aispm"):
                    cells.append("n/a")
                else:
                    cells.append(f"{_pct(row['recall'])} / {_pct(row['precision'])}")
            add(f"| {kind} | " + " | ".join(cells) + " |")
        add(
            "| **all types (micro)** | "
            + " | ".join(
                f"**{_pct(pii['summary'][n]['all']['recall'])} / {_pct(pii['summary'][n]['all']['precision'])}**"
                for n in tools
            )
            + " |"
        )
        add("| types the tool supports | " + " | ".join(_rp(pii["summary"][n]["supported"]) for n in tools) + " |")
        add(
            "| aispm (default policy) on the same types | "
            + " | ".join(_rp(pii["summary"][n]["aispm_same_types"]) for n in tools)
            + " |"
        )
        if "aispm (all built-in)" in tools:
            add(
                "| aispm (all built-in) on the same types | "
                + " | ".join(_rp(pii["summary"][n]["aispm_all_same_types"]) for n in tools)
                + " |"
            )
        add("\n`n/a`: the tool has no recognizer for the type. aispm is scored on every type, covered or not.")
    lat = report.get("latency")
    if lat:
        add("\n## Latency per call (median / p95, µs)\n")
        labels = list(next(iter(lat.values())))
        add("| tool | " + " | ".join(labels) + " |")
        add("|---|" + "---:|" * len(labels))
        for name, rows in lat.items():
            cells = [
                f"{rows[lb]['median_us']:,.1f} / {rows[lb]['p95_us']:,.1f}" if lb in rows else "—" for lb in labels
            ]
            add(f"| {name} | " + " | ".join(cells) + " |")
        if report.get("speedups"):
            add("\nSpeed-up of the aispm output scan (median, same texts, same run):\n")
            for key, value in report["speedups"].items():
                add(f"- {key}: {value:,.0f}x")
    probes = report.get("probes")
    if probes:
        add("\n## Import time and memory\n")
        add("| tool | import (ms) | setup (ms) | peak RSS after one 8 KB scan (MB) |")
        add("|---|---:|---:|---:|")
        for name, row in probes.items():
            if "error" in row:
                add(f"| {name} | error: {row['error']} | | |")
            else:
                add(f"| {name} | {row['import_ms']:,.1f} | {row['setup_ms']:,.1f} | {row['maxrss_mb']:,.1f} |")
    targets = report.get("targets")
    if targets:
        add("\n## Targets\n")
        add("| target | goal | measured | met |")
        add("|---|---|---|---|")
        for row in targets:
            add(f"| {row['target']} | {row['goal']} | {row['measured']} | {'yes' if row['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(
        target: str, goal: str, value: float | None, ok: Callable[[float], bool], fmt: Callable[[float], str]
    ) -> None:
        rows.append(
            {
                "target": target,
                "goal": goal,
                "measured": "—" if value is None else fmt(value),
                "met": value is not None and ok(value),
                "value": value,
            }
        )

    lat = report.get("latency", {})
    us = lambda v: f"{v:,.1f} µs"  # noqa: E731
    if "aispm" in lat:
        add(
            "output scan, 1 KB prose, median", "< 100 µs", lat["aispm"]["prose 1KB"]["median_us"], lambda v: v < 100, us
        )
    if "aispm prompt guard" in lat:
        add(
            "prompt guard, 1 KB prose, median",
            "< 50 µs",
            lat["aispm prompt guard"]["prose 1KB"]["median_us"],
            lambda v: v < 50,
            us,
        )
    sp = report.get("speedups", {})
    for key, goal in (("vs presidio, 1 KB prose", 100), ("vs detect-secrets, 1 KB prose", 50)):
        if key in sp:
            add(f"speed-up {key}", f">= {goal}x", sp[key], lambda v, g=goal: v >= g, lambda v: f"{v:,.0f}x")
    if "aispm (all built-in)" in lat:
        add(
            "output scan with every built-in output detector, 1 KB prose, median",
            "< 100 µs",
            lat["aispm (all built-in)"]["prose 1KB"]["median_us"],
            lambda v: v < 100,
            us,
        )
    pii = report.get("pii")
    for name in ("aispm", "aispm (all built-in)"):
        if pii and name in pii["summary"]:
            summary = pii["summary"][name]["all"]
            add(f"PII/secret recall, all types ({name})", ">= 98%", summary["recall"], lambda v: v >= 0.98, _pct)
            add(f"PII/secret precision, all types ({name})", ">= 97%", summary["precision"], lambda v: v >= 0.97, _pct)
    prompt = report.get("prompt")
    if prompt:
        default = prompt["configs"]["default"]
        add("injection detection (default policy)", ">= 90%", default["detection_rate"], lambda v: v >= 0.9, _pct)
        add(
            "injection false positives (default policy)",
            "<= 1%",
            default["false_positive_rate"],
            lambda v: v <= 0.01,
            _pct,
        )
    probes = report.get("probes", {})
    if "aispm" in probes and "import_ms" in probes["aispm"]:
        add(
            "import aispm + Guard() with the default detectors",
            "< 150 ms",
            probes["aispm"]["import_ms"] + probes["aispm"]["setup_ms"],
            lambda v: v < 150,
            lambda v: f"{v:,.1f} ms",
        )
    return rows
