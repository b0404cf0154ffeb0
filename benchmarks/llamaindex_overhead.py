"""What aispm's LlamaIndex adapter adds to a query: the enforcing wrappers, the guarded LLM, the handler.

Run: ``python benchmarks/llamaindex_overhead.py`` (needs llama-index-core; ``aispm_llamaindex``
from the checkout). One process, best of several repeats, no OpenTelemetry SDK (the API's no-op
tracer), inside a session (a principal with groups and clearance, as a RAG app runs).

The query's own time is what LlamaIndex spends on it: embedding the query (``MockEmbedding``),
vector search over 20 one-kilobyte nodes (top 2), the prompt template, a mock model
(``MockLLM`` answering 64 tokens) and the response. Target: under 5% of the query's own time, or
under 50 µs per step (one query is one step).

Every query is a new text (a counter is appended): the adapter decides a text once per session, so
repeating one question would time the memo, not the guards. The model's prompt, and so its answer,
differ with it.
"""

from __future__ import annotations

import itertools
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integrations" / "llamaindex"))

from aispm_llamaindex import AispmNodePostprocessor, guard_llm, guard_query_engine, instrument
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM

import aispm

QUESTION = "Could you summarise the quarterly report for our team? I would like to know the main risks."
PAGE = "The quarterly report says revenue grew four percent and supplier risk is moderate. " * 12


def best_us(fn: object, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    guard = aispm.Guard()
    meta = {"tenant": "acme", "allowed_groups": ["staff"], "classification": "internal"}
    index = VectorStoreIndex.from_documents(
        [Document(text=f"Page {i}. {PAGE}", metadata=meta) for i in range(20)], embed_model=MockEmbedding(embed_dim=8)
    )
    llm = MockLLM(max_tokens=64)
    post = AispmNodePostprocessor(guard, origin="reports")
    bare = index.as_query_engine(llm=llm, similarity_top_k=2)
    wrapped = guard_query_engine(guard, index.as_query_engine(llm=llm, similarity_top_k=2, node_postprocessors=[post]))
    guarded_model = index.as_query_engine(llm=guard_llm(guard, llm), similarity_top_k=2)

    counter = itertools.count()

    def ask(engine: object) -> object:
        return engine.query(f"{QUESTION} (#{next(counter)})")  # type: ignore[attr-defined]

    number = 100
    with guard.session(user="bob", groups=["staff"], clearance="internal", tenant="acme"):
        assert wrapped.query(QUESTION).response == bare.query(QUESTION).response
        rows = [
            ("query engine, no aispm", best_us(lambda: ask(bare), number)),
            ("+ AispmNodePostprocessor and guard_query_engine (enforcing)", best_us(lambda: ask(wrapped), number)),
            ("+ guard_llm around the model (enforcing)", best_us(lambda: ask(guarded_model), number)),
        ]
        nodes = index.as_retriever(similarity_top_k=2).retrieve(QUESTION)
        answer = str(bare.query(QUESTION))

        def decisions() -> object:
            guard.prompt.check(f"{QUESTION} (#{next(counter)})")
            guard.retrieval.filter(nodes, origin="reports")
            return guard.output.scan(answer)

        rows.append(("the enforcing wrappers' decisions alone, back to back", best_us(decisions, number)))
        with instrument(guard):
            rows.append(("+ instrument(guard) (observing)", best_us(lambda: ask(bare), number)))
    own = rows[0][1]
    print(f"Python {sys.version.split()[0]}, aispm {aispm.__version__}; question {len(QUESTION)} chars, nodes 1 KB\n")
    print("| run | µs per query | added | of the query's own time |")
    print("| --- | ---: | ---: | ---: |")
    for name, value in rows:
        if name.startswith("the "):  # not a query: what part of the added time is the guards' own work
            print(f"| {name} | — | {value:.0f} | {value / own:.1%} |")
        else:
            print(f"| {name} | {value:.0f} | {value - own:+.0f} | {(value - own) / own:+.1%} |")


if __name__ == "__main__":
    main()
