"""What the retrieval filter costs: 100 and 10,000 documents of 1 KB for a principal with 50 groups.

Run: ``python benchmarks/retrieval.py``. One process, best of several repeats, no OpenTelemetry SDK
(the API's no-op tracer). Documents are dicts (``{"page_content": ..., "metadata": ...}``); with
langchain-core and llama-index-core installed, LangChain ``Document``s and LlamaIndex ``NodeWithScore``s
too. Each corpus is a realistic mix: about half readable by the principal (its tenant, a label within its
clearance, shared with one of its groups), the rest dropped for the tenant, the label or the ACL.

- access only: tenant, label and ACL checks (``scan`` and ``redact`` off): the target is < 0.2 ms for
  100 documents, and time growing linearly with the number of documents.
- with content: the kept documents also scanned by the prompt guard (poisoned-chunk check) and for
  PII and secrets (redaction): linear in the kept text.
"""

from __future__ import annotations

import platform
import random
import sys
import timeit
from collections.abc import Callable
from typing import Any

import aispm

GROUPS = [f"group-{i}" for i in range(50)]
LABELS = ("public", "internal", "confidential", "restricted")
PARAGRAPH = (
    "The quarterly planning notes cover supplier delays, the new onboarding flow and the support "
    "rota for the holidays. Owners are listed per section; questions go to the team channel. "
)


def corpus(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 (a reproducible corpus, not a secret)
    text = (PARAGRAPH * 8)[:1024]
    docs = []
    for i in range(n):
        metadata = {
            "doc_id": f"doc-{i}",
            "tenant": "acme" if rng.random() < 0.9 else "globex",
            "classification": rng.choice(LABELS),
            "allowed_groups": rng.sample(GROUPS, 2) if rng.random() < 0.8 else [f"other-{i % 7}"],
            "owner": f"user-{i % 13}",
        }
        docs.append({"page_content": text, "metadata": metadata})
    return docs


def best_ms(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def framework_kinds() -> dict[str, Callable[[dict[str, Any]], object]]:
    """The framework document types installed here, each as a builder from a dict document."""
    kinds: dict[str, Callable[[dict[str, Any]], object]] = {}
    try:
        from langchain_core.documents import Document
    except ImportError:
        pass
    else:
        kinds["LangChain Documents"] = lambda d: Document(page_content=d["page_content"], metadata=d["metadata"])
    try:
        from llama_index.core.schema import NodeWithScore, TextNode
    except ImportError:
        pass
    else:
        kinds["LlamaIndex NodeWithScore"] = lambda d: NodeWithScore(
            node=TextNode(text=d["page_content"], metadata=d["metadata"])
        )
    return kinds


def row(name: str, guard: aispm.Guard, small: list[Any], large: list[Any], number: int) -> tuple[str, float, float]:
    """Milliseconds to filter ``small`` (100) and ``large`` (10,000) documents."""
    return (
        name,
        best_ms(lambda: guard.retrieval.filter(small), number),
        best_ms(lambda: guard.retrieval.filter(large), max(1, number // 60), repeat=5 if number > 60 else 3),
    )


def main() -> None:
    access_only = aispm.Guard({"retrieval": {"scan": False, "redact": False}})
    with_content = aispm.Guard()
    small, large = corpus(100), corpus(10_000)
    session = {"user": "alice", "groups": GROUPS, "tenant": "acme", "clearance": "confidential"}
    rows: list[tuple[str, float, float]] = []
    with access_only.session(**session):
        kept = len(access_only.retrieval.filter(small).documents)
        rows.append(row("access only (dicts)", access_only, small, large, 200))
        for kind, build in framework_kinds().items():
            rows.append(
                row(f"access only ({kind})", access_only, [build(d) for d in small], [build(d) for d in large], 200)
            )
    with with_content.session(**session):
        rows.append(row("with content (prompt guard + PII/secrets on kept documents)", with_content, small, large, 20))
    print(f"Python {sys.version.split()[0]} on {platform.machine()}, aispm {aispm.__version__}")
    print(f"{kept} of 100 documents readable by the principal (50 groups)\n")
    print("| filter | 100 documents (ms) | 10,000 documents (ms) | per document, 100 / 10,000 (µs) |")
    print("| --- | ---: | ---: | ---: |")
    for name, hundred, ten_k in rows:
        print(f"| {name} | {hundred:.3f} | {ten_k:.1f} | {hundred * 10:.2f} / {ten_k / 10:.2f} |")


if __name__ == "__main__":
    main()
