"""Every check the project runs, in one place: ``python -m nox`` runs the default sessions.

Tool versions come from the dependency groups in pyproject.toml (one source).
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = ["lint", "typecheck", "tests", "docs", "examples"]

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
    session.install(*_group("typecheck"))
    session.install("-e", ".[yaml,cli,testing]")
    session.run("mypy")


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
        *session.posargs,
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Every Python block in README.md and docs/ runs; every span attribute is documented."""
    session.install(*_group("test"))
    session.install("-e", ".")
    session.run("pytest", "tests/test_docs.py", *session.posargs)


@nox.session
def examples(session: nox.Session) -> None:
    """Each example runs as a script, offline."""
    session.install(*_group("test"))
    session.install("-e", ".[cli]")
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
