"""Run the development evaluation and the side-by-side comparison; print Markdown, write JSON.

    python -m benchmarks.eval [--quick] [--json PATH] [--no-compare] [--seed N]

Matching rules (documented in docs/evaluation.md):

* Prompt guard: a *hit* is any decision other than ``allow``. Detection rate is hits over
  attacks, per family; the false-positive rate is hits over the benign texts (the harmful
  requests without an injection are reported apart, not counted either way).
* PII and secrets: a labelled value is *found* when a finding of the same type overlaps its
  span (recall). A finding is a true positive when it overlaps a labelled value of its type,
  a false positive when it overlaps no labelled value at all; a finding of the wrong type
  that overlaps a labelled value of another type is neither (it does not count against
  precision). Findings a tool labels with a type outside the evaluation's types (Presidio's
  PERSON or URL, detect-secrets' high-entropy strings) are counted apart, not scored.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from benchmarks.eval import compare, datasets, synthetic
from benchmarks.eval.compare import Found, Tool
from benchmarks.eval.report import check_targets, markdown, shorten

_OUTPUT_PREFIXES = ("pii.", "secrets.", "leakage.", "exfiltration.", "links.", "output.")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


# ---------------------------------------------------------------- prompt guard


def prompt_configs() -> dict[str, tuple[Any, str]]:
    import aispm
    from aispm.detectors import BUILTIN

    configs: dict[str, tuple[Any, str]] = {
        "default": (aispm.Guard(), "user"),
        "strict": (aispm.Guard({"prompt": {"level": "strict"}}), "user"),
        "source=tool": (aispm.Guard(), "tool"),
    }
    default = set(aispm.Guard().policy.prompt.detectors)
    every = sorted(d for d in BUILTIN if not d.startswith(_OUTPUT_PREFIXES))
    if set(every) != default:
        configs["all built-in prompt detectors"] = (aispm.Guard({"prompt": {"detectors": every}}), "user")
    return configs


def evaluate_prompts(samples: list[datasets.Sample], misses_per_family: int) -> dict[str, Any]:
    configs = prompt_configs()
    out: dict[str, Any] = {"configs": {}, "detectors": {}}
    for name, (guard, source) in configs.items():
        out["detectors"][name] = list(guard.policy.prompt.detectors)
        by_family: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        misses: dict[str, list[str]] = defaultdict(list)
        false_positives: list[dict[str, Any]] = []
        fired: Counter[str] = Counter()
        plain_hits: dict[str, bool] = {}
        encoded = [0, 0]  # encoded attacks caught, among those whose plain text is caught
        encoded_by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        t0 = time.perf_counter()
        for sample in samples:
            decision = guard.prompt.check(sample.text, source=source)
            hit = decision.action.value != "allow"
            if sample.plain is not None:
                if sample.plain not in plain_hits:
                    plain_hits[sample.plain] = guard.prompt.check(sample.plain, source=source).action.value != "allow"
                if plain_hits[sample.plain]:
                    for counts in (encoded, encoded_by_source[sample.source]):
                        counts[0] += hit
                        counts[1] += 1
            for key, table in ((sample.family, by_family), (sample.source, by_source)):
                table[key][0] += hit
                table[key][1] += 1
            if hit:
                fired.update({f.detector for f in decision.findings})
            if sample.attack and not hit and len(misses[sample.family]) < misses_per_family:
                misses[sample.family].append(f"[{sample.source}] {shorten(sample.text)}")
            if not sample.attack and hit and sample.family != "harmful_requests" and len(false_positives) < 60:
                false_positives.append(
                    {
                        "source": sample.source,
                        "detectors": sorted({f.detector for f in decision.findings}),
                        "text": shorten(sample.text),
                    }
                )
        attacks = [s for s in samples if s.attack]
        benign = [s for s in samples if not s.attack and s.family != "harmful_requests"]
        hits_attack = sum(by_family[f][0] for f in datasets.ATTACK_FAMILIES if f in by_family)
        hits_benign = sum(by_family[f][0] for f in datasets.BENIGN_FAMILIES if f in by_family)
        out["configs"][name] = {
            "source": source,
            "seconds": time.perf_counter() - t0,
            "detection_rate": _ratio(hits_attack, len(attacks)),
            "macro_detection_rate": sum(
                by_family[f][0] / by_family[f][1] for f in datasets.ATTACK_FAMILIES if by_family.get(f, [0, 0])[1]
            )
            / max(1, sum(1 for f in datasets.ATTACK_FAMILIES if by_family.get(f, [0, 0])[1])),
            "false_positive_rate": _ratio(hits_benign, len(benign)),
            "encoded_when_plain_detected": {"hits": encoded[0], "n": encoded[1], "rate": _ratio(*encoded)},
            "encoding_payloads_detected_plain": _ratio(sum(plain_hits.values()), len(plain_hits)),
            "encoded_when_plain_detected_by_source": {
                k: {"hits": v[0], "n": v[1], "rate": _ratio(*v)} for k, v in sorted(encoded_by_source.items())
            },
            "attacks": len(attacks),
            "benign": len(benign),
            "families": {k: {"hits": v[0], "n": v[1], "rate": v[0] / v[1]} for k, v in sorted(by_family.items())},
            "sources": {k: {"hits": v[0], "n": v[1], "rate": v[0] / v[1]} for k, v in sorted(by_source.items())},
            "detectors_fired": dict(fired.most_common()),
            "missed_samples": dict(misses),
            "false_positive_samples": false_positives,
        }
    return out


# ---------------------------------------------------------------- PII and secrets


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_tool(tool: Tool, labelled: list[synthetic.LabelledText], misses_per_type: int) -> dict[str, Any]:
    recall_hit: Counter[str] = Counter()
    recall_any: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    wrong_type = 0
    other = 0
    missed: dict[str, list[str]] = defaultdict(list)
    false_pos: dict[str, list[str]] = defaultdict(list)
    t0 = time.perf_counter()
    for sample in labelled:
        found: list[Found] = tool.find(sample.text)
        for span in sample.spans:
            totals[span.type] += 1
            ranges = [(s, e, k) for s, e, k in found if _overlaps((s, e), (span.start, span.end))]
            if any(k == span.type for _, _, k in ranges):
                recall_hit[span.type] += 1
            elif len(missed[span.type]) < misses_per_type:
                missed[span.type].append(shorten(sample.text, 200))
            if ranges:
                recall_any[span.type] += 1
        for start, end, kind in found:
            if kind == "other":
                other += 1
                continue
            hits = [sp for sp in sample.spans if _overlaps((start, end), (sp.start, sp.end))]
            if any(sp.type == kind for sp in hits):
                tp[kind] += 1
            elif hits:
                wrong_type += 1
            else:
                fp[kind] += 1
                if len(false_pos[kind]) < misses_per_type:
                    false_pos[kind].append(shorten(sample.text[max(0, start - 40) : end + 40], 200))
    per_type = {}
    for kind in synthetic.TYPES:
        per_type[kind] = {
            "n": totals[kind],
            "recall": _ratio(recall_hit[kind], totals[kind]),
            "recall_any_type": _ratio(recall_any[kind], totals[kind]),
            "tp": tp[kind],
            "fp": fp[kind],
            "precision": _ratio(tp[kind], tp[kind] + fp[kind]),
            "supported": kind in tool.supports,
        }
    return {
        "tool": tool.name,
        "notes": tool.notes,
        "seconds": time.perf_counter() - t0,
        "per_type": per_type,
        "wrong_type_findings": wrong_type,
        "unscored_other_findings": other,
        "missed_samples": dict(missed),
        "false_positive_samples": dict(false_pos),
        "supports": sorted(tool.supports),
    }


def micro(result: dict[str, Any], kinds: set[str]) -> dict[str, float | None]:
    rows = [v for k, v in result["per_type"].items() if k in kinds]
    n = sum(r["n"] for r in rows)
    hit = sum(round((r["recall"] or 0) * r["n"]) for r in rows)
    tp = sum(r["tp"] for r in rows)
    fp = sum(r["fp"] for r in rows)
    return {"recall": _ratio(hit, n), "precision": _ratio(tp, tp + fp), "n": n}


# ---------------------------------------------------------------- latency


def latency_texts(quick: bool, benign: list[str]) -> dict[str, list[str]]:
    """Texts per kind and size: Faker prose (nothing to find), prose with values, benign documents."""
    count = 6 if quick else 16
    rng = random.Random(99)  # noqa: S311 - reproducible test data
    texts: dict[str, list[str]] = {}
    for size, label in ((1024, "1KB"), (8192, "8KB")):
        texts[f"prose {label}"] = [synthetic.prose(size, seed=100 + i) for i in range(count)]
        texts[f"with values {label}"] = [synthetic.prose(size, seed=200 + i, with_values=True) for i in range(count)]
        if benign:
            docs = []
            for _ in range(count):
                doc = ""
                while len(doc) < size:
                    doc += rng.choice(benign) + "\n\n"
                docs.append(doc[:size])
            texts[f"benign docs {label}"] = docs
    return texts


def measure_latency(tools: list[Tool], quick: bool, prompt_guard: Any, benign: list[str]) -> dict[str, Any]:
    texts = latency_texts(quick, benign)
    out: dict[str, Any] = {}
    rounds, budget = (20, 1.5) if quick else (60, 6.0)
    for tool in tools:
        if tool.name.endswith(")") and "score" in tool.name:
            continue  # same calls as the default Presidio row
        out[tool.name] = {label: compare.latency(tool.call, group, rounds, budget) for label, group in texts.items()}
    out["aispm prompt guard"] = {
        label: compare.latency(prompt_guard.prompt.check, group, rounds, budget)
        for label, group in texts.items()
        if not label.startswith("with values")
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small samples, few timing rounds (about a minute)")
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write the full results (with missed samples) to this file"
    )
    parser.add_argument(
        "--no-compare", action="store_true", help="aispm only: skip Presidio, detect-secrets, llm-guard"
    )
    parser.add_argument("--seed", type=int, default=1234, help="seed for sampling and generation (default 1234)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    import aispm

    samples, notes = datasets.load(seed=args.seed, cap=25 if args.quick else None)
    report: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "seed": args.seed,
            "quick": args.quick,
            "versions": {"aispm": aispm.__version__, **datasets.versions()},
            "notes": notes,
        }
    }
    print(f"[eval] {len(samples)} prompt samples", file=sys.stderr)
    report["prompt"] = evaluate_prompts(samples, misses_per_family=10 if args.quick else 25)
    print(f"[eval] prompt guard done ({time.perf_counter() - started:.0f}s)", file=sys.stderr)

    per_type = 12 if args.quick else 60
    negatives = 100 if args.quick else 600
    labelled = synthetic.generate(per_type, negatives, seed=args.seed)
    tools: list[Tool] = [compare.aispm_tool()]
    from aispm.detectors import BUILTIN

    every_output = sorted(d for d in BUILTIN if d.startswith(_OUTPUT_PREFIXES))
    if set(every_output) != set(tools[0].extra["detectors"]):
        tools.append(compare.aispm_tool({"output": {"detectors": every_output}}, name="aispm (all built-in)"))
    if not args.no_compare:
        for factory, label in (
            (compare.presidio_tools, "presidio"),
            (lambda: [compare.detect_secrets_tool()], "detect-secrets"),
            (compare.llm_guard_tools, "llm-guard"),
        ):
            try:
                tools += factory()
            except Exception as exc:  # a missing comparator must not stop the aispm figures
                report["meta"]["notes"].append(f"{label} skipped: {type(exc).__name__}: {exc}")
    results = {t.name: score_tool(t, labelled, 8) for t in tools}
    all_types = set(synthetic.TYPES)
    summary = {}
    for name, result in results.items():
        supported = set(result["supports"]) or all_types
        summary[name] = {
            "all": micro(result, all_types),
            "supported": micro(result, supported),
            "aispm_same_types": micro(results["aispm"], supported),
        }
        if "aispm (all built-in)" in results:
            summary[name]["aispm_all_same_types"] = micro(results["aispm (all built-in)"], supported)
    report["pii"] = {
        "per_type": per_type,
        "positives": sum(len(x.spans) for x in labelled),
        "negatives": negatives,
        "tools": results,
        "summary": summary,
    }
    print(f"[eval] PII/secrets done ({time.perf_counter() - started:.0f}s)", file=sys.stderr)

    benign = [s.text for s in samples if s.family in ("benign_documents", "benign_handwritten", "benign_app_prompts")]
    report["latency"] = measure_latency(tools, args.quick, aispm.Guard(), benign)
    lat = report["latency"]
    speedups: dict[str, float] = {}
    base = lat["aispm"]["prose 1KB"]["median_us"]
    for other in ("presidio", "detect-secrets", "llm-guard Secrets", "llm-guard Regex"):
        if other in lat:
            speedups[f"vs {other}, 1 KB prose"] = lat[other]["prose 1KB"]["median_us"] / base
            speedups[f"vs {other}, 8 KB prose"] = (
                lat[other]["prose 8KB"]["median_us"] / lat["aispm"]["prose 8KB"]["median_us"]
            )
    report["speedups"] = speedups
    print(f"[eval] latency done ({time.perf_counter() - started:.0f}s)", file=sys.stderr)

    text = synthetic.prose(8192, seed=300, with_values=True)
    names = ["python (baseline)", "aispm (bare import)", "aispm"] if args.no_compare else list(compare.PROBES)
    report["probes"] = {name: compare.probe(name, text, repeats=2 if args.quick else 5) for name in names}
    report["targets"] = check_targets(report)
    report["meta"]["seconds"] = time.perf_counter() - started

    print(markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        print(f"[eval] wrote {args.json}", file=sys.stderr)
    return 0
