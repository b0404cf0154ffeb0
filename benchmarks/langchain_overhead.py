"""What aispm's LangChain callback handler adds to a chain: a prompt template, a fake chat model, a parser.

Run: ``python benchmarks/langchain_overhead.py`` (needs langchain-core; ``aispm_langchain`` from the
checkout). One process, best of several repeats, no OpenTelemetry SDK (the API's no-op tracer).

The chain's own time is what LangChain spends on the run (callbacks, the template, the fake model,
the parser); the handler adds a prompt-guard check of the formatted messages at the model's start
and an output scan at its end. Target: under 5% of the chain's own time, or under 50 µs per step
(one model call is one step).
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integrations" / "langchain"))

from aispm_langchain import AispmCallbackHandler
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import aispm

QUESTION = (
    "Could you summarise the quarterly report for our team? I would like to know the main risks and "
    "whether the new product line is on track. "
) * 4
ANSWER = (
    "The main risks are supplier delays and currency exposure; revenue grew four percent on the quarter. "
    "The new product line is on track for launch. "
) * 4


def best_us(fn: object, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6  # type: ignore[arg-type]


class _Empty(BaseCallbackHandler):
    """A handler that does nothing: what LangChain charges for dispatching to any handler."""


class _EmptyNoChains(BaseCallbackHandler):
    """The same, told to skip chain events (the least a handler can ask LangChain for)."""

    ignore_chain = True


def between_runs_us(work: object, between: object, rounds: int = 3000) -> float:
    """Median µs of ``work`` timed right after ``between``: as warm as the CPU caches are inside a chain."""
    times = []
    for _ in range(rounds):
        between()  # type: ignore[operator]
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are a helpful analyst."), ("human", "{question}")])
    chain = prompt | FakeListChatModel(responses=[ANSWER]) | StrOutputParser()
    guard = aispm.Guard()
    handler = AispmCallbackHandler(guard)
    plain = {"question": QUESTION}
    assert chain.invoke(plain, {"callbacks": [handler]}) == ANSWER

    def bare() -> object:
        return chain.invoke(plain)

    def guarded() -> object:
        return chain.invoke(plain, {"callbacks": [handler]})

    def checks_alone() -> object:
        guard.prompt.check("You are a helpful analyst.", source="system")
        guard.prompt.check(QUESTION)
        return guard.output.scan(ANSWER)

    number = 300
    rows = [
        ("chain, no callbacks", best_us(bare, number)),
        ("chain + AispmCallbackHandler", best_us(guarded, number)),
        ("chain + a do-nothing handler", best_us(lambda: chain.invoke(plain, {"callbacks": [_Empty()]}), number)),
        (
            "chain + a do-nothing handler that ignores chain events",
            best_us(lambda: chain.invoke(plain, {"callbacks": [_EmptyNoChains()]}), number),
        ),
        ("the guard calls alone (2 prompt checks, 1 output scan)", best_us(checks_alone, number)),
        (
            "the same guard calls, each timed right after a chain run (sum of medians)",
            between_runs_us(lambda: guard.prompt.check("You are a helpful analyst.", source="system"), bare)
            + between_runs_us(lambda: guard.prompt.check(QUESTION), bare)
            + between_runs_us(lambda: guard.output.scan(ANSWER), bare),
        ),
    ]
    own, with_handler = rows[0][1], rows[1][1]
    print(
        f"Python {sys.version.split()[0]}, aispm {aispm.__version__}; question {len(QUESTION)} chars, "
        f"answer {len(ANSWER)} chars\n"
    )
    print("| run | µs per invoke |")
    print("| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value:.1f} |")
    print(f"\nhandler overhead: {with_handler - own:.1f} µs per step ({(with_handler - own) / own:.0%} of the chain)")


if __name__ == "__main__":
    main()
