"""Reading and rewriting retrieved documents of any supported type, without importing a framework.

The retrieval filter sees every document through a `DocumentView` (the text the model would
see, the metadata, the id) and, when it redacts or spotlights one, asks for a copy holding the
new text with `with_text`. Supported, in the order they are recognised:

- ``str``: the text itself; no metadata, no id.
- ``dict``: text under the first of ``page_content``, ``text``, ``content`` that holds a str;
  metadata under ``metadata`` when that key is present, else the other keys; id under ``id``.
- LangChain ``langchain_core.documents.Document``: ``page_content``, ``metadata``, ``id``.
- LlamaIndex ``NodeWithScore`` and nodes (``TextNode``, ``Document``, any ``BaseNode``): the
  node's own text without metadata mixed in, ``metadata``, ``node_id``.
- Any other object (dataclass, pydantic model, plain) with a str ``page_content``, ``text`` or
  ``content`` attribute, and optionally ``metadata`` and ``id``.

Frameworks are recognised by the modules of a type's classes, so nothing is imported until
such an object is passed (and then it is already loaded). The way to read a type is worked out
once and cached per type, which keeps a view at a few attribute lookups.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple, NoReturn, TypeVar

from pydantic import BaseModel

__all__ = ["DocumentView", "view", "with_text"]

_D = TypeVar("_D")

_TEXT_KEYS: Final = ("page_content", "text", "content")
"""Where the text is, in order: the first that holds a str wins (dict keys and attributes alike)."""

_LANGCHAIN: Final = "langchain_core.documents.base"
_LLAMA: Final = "llama_index.core.schema"
_NOT_DOCUMENTS: Final = (
    type(None),
    bytes,
    bytearray,
    memoryview,
    int,
    float,
    complex,
    list,
    tuple,
    set,
    frozenset,
    Mapping,
)
"""Types refused at once: none has a text attribute (a Mapping other than a dict is not guessed at)."""
_CACHE_LIMIT: Final = 1024
"""Types whose adapter is remembered; past this (types made on the fly) adapters are worked out per call."""


class DocumentView(NamedTuple):
    """What the filter reads of one document (a named tuple: one is built per document, and cheaply).

    Attributes:
        text: The text the model would see (a LlamaIndex node's text without its metadata).
        metadata: The document's own metadata mapping (not a copy: read it, never change it;
            for a dict without a ``metadata`` key, its other keys), or ``None`` when the
            document has none or it is not a mapping.
        id: The document's id as the framework knows it; ``""`` when unknown.
        malformed: Metadata is present but not a mapping. ``metadata`` is then ``None`` and the
            filter reports the document as malformed rather than as missing metadata.
    """

    text: str
    metadata: Mapping[str, Any] | None
    id: str
    malformed: bool = False


_Viewer = Callable[[Any], DocumentView]
_Copier = Callable[[Any, str], Any]
_ADAPTERS: dict[type, tuple[_Viewer, _Copier]] = {}


def view(document: object) -> DocumentView:
    """Read ``document``'s text, metadata and id.

    Raises:
        TypeError: ``document`` is of a type the filter cannot read, or its text is not a str.
            The message names the type, never the content.
    """
    adapter = _ADAPTERS.get(type(document)) or _adapter(type(document))
    return adapter[0](document)


def with_text(document: _D, text: str) -> _D:
    """A new document of ``document``'s type holding ``text``, with its metadata and id kept.

    ``document`` (and so the store's object) is never changed, and the new document holds a
    copy of the metadata mapping, so editing one later does not show in the other. A LlamaIndex
    node's embedding is left out of the copy: it describes the old text, including anything
    that was redacted from it.

    Raises:
        TypeError: ``document`` is of an unsupported type, or cannot be copied with new text
            (for instance its text is a read-only property). The message names the type only.
    """
    adapter = _ADAPTERS.get(type(document)) or _adapter(type(document))
    new: _D = adapter[1](document, text)
    return new


def _adapter(cls: type) -> tuple[_Viewer, _Copier]:
    """Work out how to read and copy instances of ``cls``, and remember it."""
    modules = {base.__module__ + "." + base.__qualname__ for base in cls.__mro__}
    adapter: tuple[_Viewer, _Copier]
    if issubclass(cls, str):
        adapter = (_str_view, _str_copy)
    elif issubclass(cls, dict):
        adapter = (_dict_view, _dict_copy)
    elif _LANGCHAIN + ".Document" in modules:
        adapter = (_langchain_view, _langchain_copy)  # pragma: no cover - tests/frameworks
    elif _LLAMA + ".NodeWithScore" in modules:
        adapter = (_scored_view, _scored_copy)  # pragma: no cover - tests/frameworks
    elif _LLAMA + ".BaseNode" in modules:
        adapter = (_node_view, _node_copy)  # pragma: no cover - tests/frameworks
    elif issubclass(cls, _NOT_DOCUMENTS):
        adapter = (_unsupported, _unsupported)  # no text attribute to look for
    else:
        adapter = (_object_view, _object_copier(cls))
    if len(_ADAPTERS) < _CACHE_LIMIT:
        _ADAPTERS[cls] = adapter
    return adapter


def _unsupported(document: object, text: str = "") -> NoReturn:
    raise TypeError(
        f"cannot read a retrieved document of type {_name(document)}: expected a str, a dict, a LangChain Document,"
        " a LlamaIndex node or NodeWithScore, or an object with a str page_content, text or content attribute"
    )


def _name(document: object) -> str:
    cls = type(document)
    return f"{cls.__module__}.{cls.__qualname__}"


_new = tuple.__new__  # builds a named tuple without its Python-level __new__: a third of the cost


def _view(text: str, metadata: object, ident: object) -> DocumentView:
    """A view, with metadata that is not a mapping marked malformed and the id as a str ("" when unusable)."""
    if type(ident) is not str:
        ident = str(ident) if isinstance(ident, int) and not isinstance(ident, bool) else ""
    if metadata is None or type(metadata) is dict:  # the common cases first: no isinstance on an ABC
        return _new(DocumentView, (text, metadata, ident, False))
    if isinstance(metadata, Mapping):
        return _new(DocumentView, (text, metadata, ident, False))
    return _new(DocumentView, (text, None, ident, True))


# -- str and dict ---------------------------------------------------------------------------


def _str_view(document: str) -> DocumentView:
    return DocumentView(document if type(document) is str else str(document), None, "")


def _str_copy(document: str, text: str) -> str:
    return text


def _dict_text_key(document: dict[Any, Any]) -> str:
    if type(document.get("page_content")) is str:  # the common case, one lookup
        return "page_content"
    for key in _TEXT_KEYS:
        if isinstance(document.get(key), str):
            return key
    raise TypeError(
        f"cannot read a retrieved document of type {_name(document)}: it has no str under"
        " 'page_content', 'text' or 'content'"
    )


def _dict_view(document: dict[Any, Any]) -> DocumentView:
    key = _dict_text_key(document)
    if "metadata" in document:
        return _view(document[key], document["metadata"], document.get("id"))
    # Flat: the other keys are the metadata, never the text (authorizers must not see it).
    metadata = document.copy()
    del metadata[key]
    return _view(document[key], metadata, document.get("id"))


def _dict_copy(document: dict[Any, Any], text: str) -> dict[Any, Any]:
    key = _dict_text_key(document)
    new = document.copy() if type(document) is dict else copy.copy(document)
    new[key] = text
    metadata = document.get("metadata")
    if isinstance(metadata, Mapping):
        new["metadata"] = dict(metadata)
    return new


# -- LangChain ------------------------------------------------------------------------------


def _langchain_view(document: Any) -> DocumentView:  # pragma: no cover - tests/frameworks
    text = document.page_content
    if type(text) is not str and not isinstance(text, str):
        _no_text(document)
    return _view(text, document.metadata, document.id)


def _langchain_copy(document: Any, text: str) -> Any:  # pragma: no cover - tests/frameworks
    update: dict[str, Any] = {"page_content": text}
    if isinstance(document.metadata, Mapping):
        update["metadata"] = dict(document.metadata)
    return document.model_copy(update=update)


# -- LlamaIndex -----------------------------------------------------------------------------

_NODE_KINDS: dict[type, str] = {}


def _node_kind(cls: type) -> str:  # pragma: no cover - tests/frameworks
    """``text`` (a ``TextNode``), ``resource`` (a ``Node``: ``Document`` and kin) or ``other``."""
    kind = _NODE_KINDS.get(cls)
    if kind is None:
        names = {base.__qualname__ for base in cls.__mro__ if base.__module__ == _LLAMA}
        kind = "text" if "TextNode" in names else "resource" if "Node" in names else "other"
        if len(_NODE_KINDS) < _CACHE_LIMIT:
            _NODE_KINDS[cls] = kind
    return kind


def _node_text(node: Any) -> str:  # pragma: no cover - tests/frameworks
    """A node's own text, without the metadata LlamaIndex can mix into ``get_content``."""
    kind = _NODE_KINDS.get(type(node)) or _node_kind(type(node))
    if kind == "text":
        text = node.text
    elif kind == "resource":
        resource = node.text_resource
        text = (resource.text or "") if resource is not None else ""
    else:
        text = node.get_content(importlib.import_module(_LLAMA).MetadataMode.NONE)
    if type(text) is not str and not isinstance(text, str):
        _no_text(node)
    return text


def _node_view(node: Any) -> DocumentView:  # pragma: no cover - tests/frameworks
    return _view(_node_text(node), node.metadata, node.id_)  # `node_id` is a property over `id_`


def _scored_view(document: Any) -> DocumentView:  # pragma: no cover - tests/frameworks
    return _node_view(document.node)


def _node_copy(node: Any, text: str) -> Any:  # pragma: no cover - tests/frameworks
    """A copy of ``node`` holding ``text``; the original and the parts it shares are left alone.

    ``model_copy`` is shallow: a ``Node``'s ``text_resource`` would be the same object in both,
    so the copy gets a copy of it rather than a change to it.
    """
    kind = _node_kind(type(node))
    update: dict[str, Any] = {"embedding": None}
    if isinstance(node.metadata, Mapping):
        update["metadata"] = dict(node.metadata)
    if kind == "text":
        update["text"] = text
        return node.model_copy(update=update)
    if kind == "resource":
        resource = node.text_resource
        if resource is None:
            resource = importlib.import_module(_LLAMA).MediaResource(text=text)
        else:
            resource = resource.model_copy(update={"text": text, "embeddings": None})
        update["text_resource"] = resource
        return node.model_copy(update=update)
    # A BaseNode subclass from outside llama_index.core: its set_content assigns a field of the copy.
    new = node.model_copy(update=update)
    try:
        new.set_content(text)
    except Exception as exc:
        raise TypeError(f"cannot copy a retrieved document of type {_name(node)} with new text") from exc
    if _node_text(new) != text:
        raise TypeError(f"cannot copy a retrieved document of type {_name(node)} with new text")
    return new


def _scored_copy(document: Any, text: str) -> Any:  # pragma: no cover - tests/frameworks
    return document.model_copy(update={"node": _node_copy(document.node, text)})


# -- any other object -----------------------------------------------------------------------


def _object_text(document: object) -> tuple[str, str]:
    """The attribute that holds the text, and the text."""
    for name in _TEXT_KEYS:
        text = _attribute(document, name)
        if isinstance(text, str):
            return name, text
    _unsupported(document)


def _attribute(document: object, name: str) -> Any:
    """``document.name``, or ``None`` when it has none; a property that fails makes it unreadable."""
    try:
        return getattr(document, name, None)
    except Exception as exc:
        raise TypeError(f"cannot read {name!r} of a retrieved document of type {_name(document)}") from exc


def _object_view(document: object) -> DocumentView:
    _, text = _object_text(document)
    return _view(text, _attribute(document, "metadata"), _attribute(document, "id"))


def _object_copier(cls: type) -> _Copier:
    """How to copy an instance of ``cls`` with new text: by its own means where it has them."""
    if dataclasses.is_dataclass(cls):
        return _dataclass_copy
    if issubclass(cls, BaseModel):
        return _pydantic_copy
    return _plain_copy


def _changes(document: object, text: str) -> dict[str, Any]:
    name, _ = _object_text(document)
    changes: dict[str, Any] = {name: text}
    metadata = _attribute(document, "metadata")
    if isinstance(metadata, Mapping):
        changes["metadata"] = dict(metadata)
    return changes


def _dataclass_copy(document: Any, text: str) -> Any:
    try:
        new = dataclasses.replace(document, **_changes(document, text))
    except (TypeError, ValueError) as exc:  # a field that is not an __init__ argument, or a property
        raise TypeError(f"cannot copy a retrieved document of type {_name(document)} with new text") from exc
    return _checked(document, new, text)


def _pydantic_copy(document: Any, text: str) -> Any:
    return _checked(document, document.model_copy(update=_changes(document, text)), text)


def _plain_copy(document: Any, text: str) -> Any:
    name, before = _object_text(document)
    changes = _changes(document, text)
    for key in changes:
        attribute = inspect.getattr_static(type(document), key, None)
        if hasattr(type(attribute), "__set__") and not isinstance(attribute, types.MemberDescriptorType):
            # A property's setter may write through to an object the copy shares with the original.
            raise TypeError(f"cannot copy a retrieved document of type {_name(document)}: {key!r} is a property")
    try:
        new = copy.copy(document)
        for key, value in changes.items():
            setattr(new, key, value)
    except Exception as exc:
        raise TypeError(f"cannot copy a retrieved document of type {_name(document)} with new text") from exc
    if getattr(document, name) is not before:  # copy.copy went through a __copy__ that shares state
        raise TypeError(f"cannot copy a retrieved document of type {_name(document)} without changing it")
    return _checked(document, new, text)


def _checked(document: object, new: object, text: str) -> object:
    """Fail closed unless the copy reads back ``text`` (a property can shadow the assigned value)."""
    if _object_text(new)[1] != text:
        raise TypeError(f"cannot copy a retrieved document of type {_name(document)} with new text")
    return new


def _no_text(document: object) -> NoReturn:  # pragma: no cover - tests/frameworks
    raise TypeError(f"cannot read a retrieved document of type {_name(document)}: its text is not a str")
