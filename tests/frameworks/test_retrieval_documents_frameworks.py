"""Document adapters with real framework objects: LangChain ``Document``, LlamaIndex nodes and ``NodeWithScore``.

Each framework's tests skip when it is not installed (the integrations session installs one
framework at a time; the core session none).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aispm.retrieval import _documents
from aispm.retrieval._documents import DocumentView, view, with_text

SECRET = "TOP-SECRET-CONTENT-4711"


@pytest.fixture
def lc() -> Any:
    """``langchain_core.documents``, or skip."""
    return pytest.importorskip("langchain_core.documents")


@pytest.fixture
def li() -> Any:
    """``llama_index.core.schema``, or skip."""
    return pytest.importorskip("llama_index.core.schema")


# -- LangChain ------------------------------------------------------------------------------


def test_langchain_document_view(lc: Any) -> None:
    meta = {"owner": "alice", "allowed_groups": ["eng"]}
    document = lc.Document(page_content=SECRET, metadata=meta, id="d1")
    v = view(document)
    assert v == DocumentView(SECRET, document.metadata, "d1")
    assert v.metadata is document.metadata
    assert view(lc.Document(page_content="t")) == DocumentView("t", {}, "")


def test_langchain_with_text_is_a_new_document(lc: Any) -> None:
    document = lc.Document(page_content=SECRET, metadata={"owner": "alice"}, id="d1")
    new = with_text(document, "redacted")
    assert type(new) is lc.Document
    assert (new.page_content, new.metadata, new.id) == ("redacted", {"owner": "alice"}, "d1")
    assert document.page_content == SECRET
    assert new.metadata is not document.metadata
    new.metadata["owner"] = "mallory"
    assert document.metadata == {"owner": "alice"}


def test_langchain_subclass_is_recognised(lc: Any) -> None:
    class Chunk(lc.Document):  # type: ignore[misc]  # the class is only known at run time
        chunk: int = 0

    document = Chunk(page_content="t", metadata={"a": 1}, chunk=3)
    assert view(document).text == "t"
    new = with_text(document, "u")
    assert type(new) is Chunk
    assert (new.page_content, new.chunk) == ("u", 3)


def test_langchain_metadata_replaced_by_a_non_mapping_is_malformed(lc: Any) -> None:
    document = lc.Document(page_content="t")
    document.metadata = "owner=alice"  # no validation on assignment in LangChain
    v = view(document)
    assert v.metadata is None
    assert v.malformed


def test_langchain_copy_keeps_malformed_metadata_malformed(lc: Any) -> None:
    document = lc.Document(page_content="t")
    document.metadata = "owner=alice"
    new = with_text(document, "u")
    assert (new.page_content, new.metadata) == ("u", "owner=alice")


def test_langchain_text_that_is_not_a_str_is_refused(lc: Any) -> None:
    document = lc.Document.model_construct(page_content=None, metadata={})
    with pytest.raises(TypeError, match=r"langchain_core\.documents\.base\.Document"):
        view(document)


# -- LlamaIndex -----------------------------------------------------------------------------


def test_text_node_view_is_the_text_without_metadata(li: Any) -> None:
    node = li.TextNode(text=SECRET, metadata={"owner": "alice", "title": "Plans"}, id_="n1")
    v = view(node)
    assert v == DocumentView(SECRET, node.metadata, "n1")
    assert v.text == node.get_content(metadata_mode=li.MetadataMode.NONE)
    assert "Plans" in node.get_content(metadata_mode=li.MetadataMode.LLM)  # what LlamaIndex can add


def test_text_node_with_text_copies_the_node(li: Any) -> None:
    node = li.TextNode(
        text=SECRET,
        metadata={"owner": "alice"},
        id_="n1",
        embedding=[0.1, 0.2],
        excluded_llm_metadata_keys=["owner"],
        start_char_idx=3,
        end_char_idx=20,
    )
    before = node.hash
    new = with_text(node, "redacted")
    assert type(new) is li.TextNode
    assert (new.text, new.node_id, new.metadata) == ("redacted", "n1", {"owner": "alice"})
    assert (new.excluded_llm_metadata_keys, new.start_char_idx, new.end_char_idx) == (["owner"], 3, 20)
    assert new.embedding is None  # it described the old text
    assert new.hash != before
    assert (node.text, node.embedding, node.hash) == (SECRET, [0.1, 0.2], before)
    assert new.metadata is not node.metadata
    new.metadata["owner"] = "mallory"
    assert node.metadata == {"owner": "alice"}


def test_text_node_subclasses_are_text_nodes(li: Any) -> None:
    node = li.IndexNode(text=SECRET, index_id="idx", metadata={"a": 1})
    assert view(node).text == SECRET
    new = with_text(node, "x")
    assert (type(new), new.text, new.index_id, node.text) == (li.IndexNode, "x", "idx", SECRET)


def test_llama_document_copy_does_not_share_its_text_resource(li: Any) -> None:
    document = li.Document(text=SECRET, metadata={"tenant": "acme"}, id_="doc-1")
    resource = document.text_resource
    resource.mimetype = "text/markdown"
    resource.embeddings = {"dense": [0.5]}
    assert view(document) == DocumentView(SECRET, document.metadata, "doc-1")

    new = with_text(document, "redacted")
    assert type(new) is li.Document
    assert (new.text, new.doc_id, new.metadata) == ("redacted", "doc-1", {"tenant": "acme"})
    assert new.text_resource is not resource
    assert new.text_resource.mimetype == "text/markdown"
    assert new.text_resource.embeddings is None
    assert document.text_resource is resource
    assert (resource.text, resource.embeddings) == (SECRET, {"dense": [0.5]})
    assert new.metadata is not document.metadata


def test_llama_document_without_text(li: Any) -> None:
    document = li.Document(id_="empty")
    assert document.text_resource is None
    assert view(document) == DocumentView("", {}, "empty")
    new = with_text(document, "now some text")
    assert new.text == "now some text"
    assert document.text_resource is None


def test_node_with_score_view_and_copy(li: Any) -> None:
    node = li.TextNode(text=SECRET, metadata={"owner": "alice"}, id_="n1")
    scored = li.NodeWithScore(node=node, score=0.83)
    assert view(scored) == DocumentView(SECRET, node.metadata, "n1")

    new = with_text(scored, "redacted")
    assert type(new) is li.NodeWithScore
    assert new.score == 0.83
    assert new.node is not node
    assert (new.node.text, new.node.node_id, new.node.metadata) == ("redacted", "n1", {"owner": "alice"})
    assert scored.node is node
    assert node.text == SECRET
    assert new.node.metadata is not node.metadata


def test_node_with_score_around_a_document(li: Any) -> None:
    scored = li.NodeWithScore(node=li.Document(text=SECRET, id_="d"), score=None)
    new = with_text(scored, "x")
    assert (new.node.text, new.score, scored.node.text) == ("x", None, SECRET)


def test_a_base_node_from_outside_llama_index_core(li: Any) -> None:
    class Note(li.BaseNode):  # type: ignore[misc]  # the class is only known at run time
        body: str = ""

        @classmethod
        def get_type(cls) -> str:
            return "note"

        def get_content(self, metadata_mode: Any = li.MetadataMode.ALL) -> str:
            prefix = "" if metadata_mode == li.MetadataMode.NONE else self.get_metadata_str(metadata_mode) + "\n"
            return prefix + self.body

        def get_content_blocks(self, metadata_mode: Any = li.MetadataMode.ALL) -> list[Any]:
            return []

        def set_content(self, value: str) -> None:
            self.body = value

        @property
        def hash(self) -> str:
            return self.body

    note = Note(body=SECRET, metadata={"owner": "alice"}, id_="note-1")
    assert view(note) == DocumentView(SECRET, note.metadata, "note-1")
    new = with_text(note, "x")
    assert (type(new), new.body, new.node_id, new.metadata, note.body) == (
        Note,
        "x",
        "note-1",
        {"owner": "alice"},
        SECRET,
    )
    assert view(li.NodeWithScore(node=note)).text == SECRET


def test_a_base_node_whose_content_cannot_be_set_is_refused(li: Any) -> None:
    class Fixed(li.BaseNode):  # type: ignore[misc]  # the class is only known at run time
        @classmethod
        def get_type(cls) -> str:
            return "fixed"

        def get_content(self, metadata_mode: Any = li.MetadataMode.ALL) -> str:
            return SECRET

        def get_content_blocks(self, metadata_mode: Any = li.MetadataMode.ALL) -> list[Any]:
            return []

        def set_content(self, value: str) -> None:
            pass

        @property
        def hash(self) -> str:
            return ""

    with pytest.raises(TypeError, match="Fixed") as info:
        with_text(Fixed(), "x")
    assert SECRET not in str(info.value)


def _base_node(li: Any, content: Any, settable: bool) -> Any:
    """A ``BaseNode`` subclass defined outside llama_index.core, with fixed content."""

    class Odd(li.BaseNode):  # type: ignore[misc]  # the class is only known at run time
        @classmethod
        def get_type(cls) -> str:
            return "odd"

        def get_content(self, metadata_mode: Any = li.MetadataMode.ALL) -> Any:
            return content

        def get_content_blocks(self, metadata_mode: Any = li.MetadataMode.ALL) -> list[Any]:
            return []

        def set_content(self, value: str) -> None:
            if not settable:
                raise NotImplementedError

        @property
        def hash(self) -> str:
            return ""

    return Odd()


def test_a_base_node_whose_content_is_not_text_is_refused(li: Any) -> None:
    with pytest.raises(TypeError, match="Odd"):
        view(_base_node(li, None, settable=True))


def test_a_base_node_that_refuses_new_content_is_refused(li: Any) -> None:
    with pytest.raises(TypeError, match="Odd"):
        with_text(_base_node(li, "t", settable=False), "x")


def test_a_node_built_without_validation_may_lack_metadata(li: Any) -> None:
    node = li.TextNode.model_construct(text="t", metadata=None, id_="n")
    assert view(node) == DocumentView("t", None, "n")
    assert with_text(node, "u").metadata is None


def test_node_kinds_work_past_the_cache_limit(li: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_documents, "_CACHE_LIMIT", 0)

    class Fresh(li.TextNode):  # type: ignore[misc]  # the class is only known at run time
        pass

    assert view(Fresh(text="t")).text == "t"
    assert Fresh not in _documents._NODE_KINDS


@given(text=st.text(), new=st.text())
def test_llama_copies_round_trip(text: str, new: str) -> None:
    schema = pytest.importorskip("llama_index.core.schema")
    for document in (
        schema.TextNode(text=text, id_="a"),
        schema.Document(text=text, id_="b"),
        schema.NodeWithScore(node=schema.TextNode(text=text, id_="c"), score=1.0),
    ):
        copied = with_text(document, new)
        assert view(copied).text == new
        assert view(document).text == text
        assert view(copied).id == view(document).id
