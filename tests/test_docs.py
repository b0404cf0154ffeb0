"""The docs are tested: every Python block runs, every policy file shown loads, every span attribute is documented.

Each fenced ``python`` block of README.md and docs/*.md runs on its own, in a
fresh temporary working directory. A ``yaml`` or ``toml`` block whose first
line is a comment naming a file (``# policy.yaml``) is a file the text asks the
reader to create: it is written into that directory before the Python blocks
that follow it in the same document run, and it must load as a valid policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

import aispm
from aispm import semconv

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(r"^ *```(?P<lang>[a-z]+)[^\n]*\n(?P<body>.*?)^ *```", re.M | re.S)
_FILE_COMMENT = re.compile(r"#\s*(?P<name>[\w.-]+\.(?:yaml|yml|toml))\s*$")


@dataclass(frozen=True)
class FileBlock:
    """A policy file shown in the docs, to be created by the reader."""

    doc: Path
    line: int
    name: str
    text: str

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}:{self.name}"


def _file_blocks(doc: Path) -> list[FileBlock]:
    text = doc.read_text("utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        if match["lang"] not in ("yaml", "toml"):
            continue
        first = match["body"].split("\n", 1)[0].strip()
        named = _FILE_COMMENT.fullmatch(first)
        if named:
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(FileBlock(doc, line, named["name"], match["body"]))
    return blocks


FILE_BLOCKS = [block for doc in DOCS for block in _file_blocks(doc)]


def test_every_doc_page_exists() -> None:
    names = {doc.name for doc in DOCS}
    expected = {"README.md", "index.md", "policy.md", "detectors.md", "telemetry.md", "decorators.md"}
    assert expected | {"tools.md", "cli.md", "dependencies.md"} <= names


@pytest.mark.parametrize("example", list(find_examples(*DOCS)), ids=str)
def test_python_blocks_run(
    example: CodeExample, eval_example: EvalExample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for block in FILE_BLOCKS:  # the files the text asked the reader to create before this block
        if block.doc == example.path and block.line < example.start_line:
            (work / block.name).write_text(block.text, "utf-8")
    monkeypatch.chdir(work)
    # Printed output, if any, must match the ``#>`` comments that follow the print.
    try:
        eval_example.run_print_check(example)
    except Exception as exc:
        # pytest cannot render the traceback pytest-examples fabricates for a failing block
        # (it stops with an INTERNALERROR): report where the block failed in plain text.
        raise AssertionError(f"{example} failed{_where(exc, example)}: {type(exc).__name__}: {exc}") from None


@pytest.mark.parametrize("example", list(find_examples(*DOCS)), ids=str)
def test_python_blocks_are_linted(
    example: CodeExample, eval_example: EvalExample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the snippet rules below, not the package's (no docstrings needed here)
    eval_example.set_config(
        line_length=120,
        ruff_line_length=120,
        ruff_select=["E", "F", "W", "I", "B", "UP", "SIM", "PIE", "RUF"],
        target_version="py310",
    )
    eval_example.lint(example)


def _where(exc: BaseException, example: CodeExample) -> str:
    # pytest-examples rewrote the traceback so that its frames name the document and its lines.
    tb = exc.__traceback__
    lines = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(example.path):
            lines.append(tb.tb_lineno)
        tb = tb.tb_next
    return f" at line {lines[-1]}" if lines else ""


@pytest.mark.parametrize("block", FILE_BLOCKS, ids=str)
def test_policy_files_shown_are_valid(block: FileBlock, tmp_path: Path) -> None:
    path = tmp_path / block.name
    path.write_text(block.text, "utf-8")
    aispm.Guard.from_file(path)


def test_policy_docs_show_a_yaml_and_a_toml_file() -> None:
    shown = {Path(block.name).suffix for block in FILE_BLOCKS if block.doc.name == "policy.md"}
    assert {".yaml", ".toml"} <= shown


def _semconv_values() -> list[tuple[str, str]]:
    return sorted(
        (name, value) for name, value in vars(semconv).items() if not name.startswith("_") and isinstance(value, str)
    )


def test_semconv_has_constants() -> None:
    assert len(_semconv_values()) > 30


@pytest.mark.parametrize(("name", "value"), _semconv_values(), ids=lambda v: v)
def test_every_span_name_and_attribute_is_documented(name: str, value: str) -> None:
    telemetry = (ROOT / "docs" / "telemetry.md").read_text("utf-8")
    assert f"`{value}`" in telemetry, f"semconv.{name} = {value!r} is not documented in docs/telemetry.md"


def test_every_builtin_detector_is_documented() -> None:
    from aispm.detectors import BUILTIN

    pages = [ROOT / "docs" / "detectors.md", *sorted((ROOT / "docs" / "detectors").glob("*.md"))]
    detectors = "\n".join(page.read_text("utf-8") for page in pages)
    missing = [name for name in BUILTIN if f"`{name}`" not in detectors]
    assert missing == []
