"""Adversarial input against benign text of the same size, through the default guards.

Run: ``python benchmarks/adversarial.py`` from the repository root. For every
adversarial family of the property tests (long runs of near-matches for each
detector), the time of ``guard.prompt.check`` and ``guard.output.scan`` on 64 KB
of it is divided by the time on 64 KB of ordinary prose, measured in the same
process (best of 3). Linear time is proven per detector by the property tests;
this shows the constant factor an attacker can buy.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aispm
from tests.test_properties import _adversarial

N = 64_000
PROSE = (
    "The quarterly report covers revenue, churn and hiring plans for the next year. "
    "Please review the attached figures before Thursday's meeting with the finance team. "
)


def best(fn: Callable[[str], object], text: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    guard = aispm.Guard({"limits": {"max_text_chars": 10 * N}})
    benign = (PROSE * (N // len(PROSE) + 1))[:N]
    families = _adversarial(N)
    print("| guard | benign 64 KB (ms) | median ratio | worst ratio | worst family |\n|---|---:|---:|---:|---|")
    for name, fn in (("prompt.check", guard.prompt.check), ("output.scan", guard.output.scan)):
        base = best(fn, benign)
        ratios = sorted((best(fn, text) / base, family) for family, text in families.items())
        median = ratios[len(ratios) // 2][0]
        worst, family = ratios[-1]
        print(f"| {name} | {base * 1e3:.2f} | {median:.1f}x | {worst:.0f}x | {family} |")
        for ratio, fam in ratios[-5:]:
            print(f"|   | | | {ratio:.0f}x | {fam} |")


if __name__ == "__main__":
    main()
