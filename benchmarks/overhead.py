"""Per-decision overhead of aispm, with and without an OpenTelemetry SDK, beside the SDK's own span cost.

Run: ``python -m nox -s bench`` (or ``python benchmarks/overhead.py``). Every
figure comes from the same process and run, so ratios stay meaningful on a
noisy shared machine. Each figure is the best of several repeats (the least
disturbed run), in microseconds per call.
"""

from __future__ import annotations

import platform
import sys
import timeit
from collections.abc import Callable

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aispm

PARAGRAPH = (
    "Could you help me summarise the quarterly report for our team? I would like to know what the main "
    "risks are, what your view on the revenue numbers is, and whether the new product line is on track. "
    "Please keep the answer short and use bullet points where it makes sense, thanks a lot. "
)
PROMPT_1KB = (PARAGRAPH * 8)[:1024]
ANSWER_1KB = (
    "The main risks are supplier delays and currency exposure; revenue grew four percent on the quarter. "
    "The new product line is on track for launch, with the pilot customers reporting good results so far. "
) * 6
ANSWER_1KB = ANSWER_1KB[:1024]
LEAKY_ANSWER = (
    ANSWER_1KB[:800]
    + " Order 1042 ships on 2026-03-03 for 129.90 EUR. Ask ops@example.com; key AKIAIOSFODNN7EXAMPLE. "
    + ANSWER_1KB[:120]
)


def best_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def sdk_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=2**20, max_export_batch_size=4096))
    return provider, exporter


def main() -> None:
    number = 20_000

    plain_guard = aispm.Guard()
    provider, exporter = sdk_provider()
    sdk_guard = aispm.Guard(tracer_provider=provider)
    tracer = provider.get_tracer("bench")
    # The six attributes a prompt decision without a session carries, so the
    # comparison isolates what aispm itself adds around the SDK's span.
    attrs = {
        "aispm.decision.action": "allow",
        "aispm.decision.guard": "prompt",
        "aispm.enforcement": "returned",
        "aispm.mode": "enforce",
        "aispm.prompt.source": "user",
        "aispm.text.length": 1024,
    }

    def bare_span() -> None:
        span = tracer.start_span("bare")
        span.set_attributes(attrs)
        span.end()

    def answer(question: str) -> str:
        return ANSWER_1KB

    plain_protected = plain_guard.protect(answer)
    sdk_protected = sdk_guard.protect(answer)

    assert plain_guard.prompt.check(PROMPT_1KB).action is aispm.Action.ALLOW
    assert plain_guard.output.scan(ANSWER_1KB).action is aispm.Action.ALLOW

    rows: list[tuple[str, float]] = []

    def measure(label: str, fn: Callable[[], object]) -> float:
        value = best_us(fn, number)
        rows.append((label, value))
        exporter.clear()
        return value

    empty_span = measure("bare SDK span (start_span, end)", lambda: tracer.start_span("bare").end())
    span = measure("bare SDK span (start_span, the decision's 6 attributes, end)", bare_span)
    check_plain = measure("prompt.check, 1 KB clean prompt, no SDK", lambda: plain_guard.prompt.check(PROMPT_1KB))
    check_sdk = measure("prompt.check, 1 KB clean prompt, SDK", lambda: sdk_guard.prompt.check(PROMPT_1KB))
    scan_plain = measure("output.scan, 1 KB clean answer, no SDK", lambda: plain_guard.output.scan(ANSWER_1KB))
    scan_sdk = measure("output.scan, 1 KB clean answer, SDK", lambda: sdk_guard.output.scan(ANSWER_1KB))
    measure(
        "output.scan, 1 KB answer with numbers, e-mail and AWS key (redacts), no SDK",
        lambda: plain_guard.output.scan(LEAKY_ANSWER),
    )
    call = measure("undecorated call", lambda: answer(PROMPT_1KB))
    protected_plain = measure(
        "@guard.protect call (prompt + output decision), no SDK", lambda: plain_protected(PROMPT_1KB)
    )
    protected_sdk = measure("@guard.protect call (prompt + output decision), SDK", lambda: sdk_protected(PROMPT_1KB))

    provider.shutdown()
    width = max(len(label) for label, _ in rows)
    print(f"Python {sys.version.split()[0]} on {platform.machine()}, aispm {aispm.__version__}; best of 7 x {number}")
    print()
    print(f"| {'measurement'.ljust(width)} | µs/call |")
    print(f"| {'-' * width} | ------: |")
    for label, value in rows:
        print(f"| {label.ljust(width)} | {value:7.2f} |")
    print()
    print("Derived (same run):")
    print(f"- prompt check with no SDK: {check_plain:.2f} µs (target < 50 µs with every default detector)")
    print(
        f"- aispm's telemetry around one decision span, beyond the SDK's own span with the same attributes "
        f"(SDK - no SDK - bare span): {check_sdk - check_plain - span:.2f} µs (target < 10 µs); "
        f"against an empty span: {check_sdk - check_plain - empty_span:.2f} µs"
    )
    print(f"- everything aispm adds on top of one bare SDK span, prompt check: {check_sdk - span:.2f} µs")
    print(f"- output scan with no SDK: {scan_plain:.2f} µs; with SDK, beyond one bare span: {scan_sdk - span:.2f} µs")
    print(f"- decorated call overhead, no SDK: {protected_plain - call:.2f} µs for two decisions")
    print(f"- decorated call overhead, SDK, beyond two bare spans: {protected_sdk - call - 2 * span:.2f} µs")


if __name__ == "__main__":
    main()
