"""What aispm's LangChain callback handler adds to a chain: a prompt template, a fake chat model, a parser.

Run: ``python benchmarks/langchain_overhead.py`` (needs langchain-core; ``aispm_langchain`` from the
checkout). One process, best of several repeats, no OpenTelemetry SDK (the API's no-op tracer).

The chain's own time is what LangChain spends on the run (callbacks, the template, the fake model,
the parser); the handler adds a prompt-guard check of the formatted messages at the model's start
and an output scan at its end. Target: under 5% of the chain's own time, or under 50 µs per step
(one model call is one step).
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integrations" / "langchain"))

from aispm_langchain import AispmCallbackHandler
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
        ("the guard calls alone (2 prompt checks, 1 output scan)", best_us(checks_alone, number)),
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
