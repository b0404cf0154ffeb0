"""What a guarded MCP client returns from a tool call: checked results, and the results it makes itself.

A server's `CallToolResult` is bounded in size, checked as untrusted text coming back into the
agent's context (``guard.prompt``, source ``tool``: a flagged result taints the session and, in
enforce mode, is replaced by `WITHHELD`), then scanned (``guard.output``: secrets and PII are
redacted). The text checked is what the model may read: every `TextContent`, the text of embedded
text resources, the title and description of resource links, and every string value of
``structured_content``. Each distinct text is checked and scanned once: ``MCPServer`` sends a
tool's text both as content and as ``{"result": text}``. Images, audio, blobs and the keys of
structured content pass unscanned; structured content deeper than `MAX_DEPTH` is refused.

When the call itself fails (denied, timed out, refused by the server, malformed) the client
returns an error result made here, with a short fixed text and no content from the server; the
kind of failure is in the result's ``_meta`` under `ERROR_KEY`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Final, Literal

import aispm

try:
    from mcp.types import CallToolResult, EmbeddedResource, ResourceLink, TextContent, TextResourceContents
    from pydantic_core import PydanticSerializationError
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.client") from None

__all__ = ["DENIED", "ERROR_KEY", "FAILED", "WITHHELD", "Failure", "checked", "denied", "failed"]

_log = logging.getLogger("aispm")

DENIED: Final = "tool call not permitted by policy"
"""What the agent reads when a call is denied (``on_deny="result"``); the detail is in the span."""

WITHHELD: Final = "[tool result withheld: flagged by policy]"
"""What replaces a tool result the prompt guard flags (enforce mode)."""

FAILED: Final = "tool call failed: {}"
"""What the agent reads when a call fails: ``{}`` is the `Failure` kind, never the server's message."""

ERROR_KEY: Final = "io.aispm/error"
"""``_meta`` key of an error result made by the guarded client: ``denied`` or a `Failure` kind."""

Failure = Literal["timeout", "connection_closed", "server_error", "invalid_result", "result_too_large"]
"""Why a call failed: no answer in time; the connection went away; the server answered with a
JSON-RPC error; the answer is not a valid result (schema violation, text that is not valid
Unicode, structured content that breaks the tool's output schema); the result is over
``max_result_bytes``."""


def denied() -> CallToolResult:
    """The error result of a denied call: `DENIED`, never the reason (it is in the span)."""
    return CallToolResult(content=[TextContent(type="text", text=DENIED)], is_error=True, _meta={ERROR_KEY: "denied"})


def failed(kind: Failure, tool: str, detail: str = "") -> CallToolResult:
    """The error result of a failed call, logged (``aispm`` logger) with the tool and what failed, no content."""
    _log.warning("aispm: MCP tool call %s failed: %s%s", tool[:256], kind, f" ({detail})" if detail else "")
    return CallToolResult(
        content=[TextContent(type="text", text=FAILED.format(kind))], is_error=True, _meta={ERROR_KEY: kind}
    )


async def checked(
    guard: aispm.Guard, qualified: str, result: CallToolResult, *, max_bytes: int, raise_on_deny: bool
) -> CallToolResult:
    """``result`` as the agent may read it: bounded, checked as untrusted text, then scanned.

    Returns:
        ``result`` itself when nothing changes (always in monitor mode), else a new result.

    Raises:
        Blocked: The scanner denies a text and ``raise_on_deny`` is set (enforce mode).
    """
    try:
        size = len(result.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8"))
    except (PydanticSerializationError, UnicodeEncodeError):  # lone surrogates: not valid Unicode text
        return failed("invalid_result", qualified, "text that is not valid Unicode")
    if size > max_bytes:
        return failed("result_too_large", qualified, f"{size} bytes, more than {max_bytes}")
    structured = result.structured_content
    strings: dict[str, None] = {}
    if structured is not None and not _strings(structured, strings, 0):
        return failed("invalid_result", qualified, f"structured content nested deeper than {MAX_DEPTH}")
    texts = list(dict.fromkeys([*_texts(result), *strings]))
    if not texts:
        return result
    judged = await guard.prompt.acheck("\n\n".join(texts), source="tool", origin=qualified)
    monitor = guard.mode == "monitor"
    if not judged.allowed and not monitor:
        return CallToolResult(content=[TextContent(type="text", text=WITHHELD)], is_error=result.is_error)
    return await _scanned(guard, result, texts, monitor=monitor, raise_on_deny=raise_on_deny)


MAX_DEPTH: Final = 64
"""How deeply structured content may nest before a result is refused (it is walked recursively)."""


def _texts(result: CallToolResult) -> Iterator[str]:
    """Every text of ``result``'s content the model may read, in order."""
    for block in result.content:
        if isinstance(block, TextContent):
            yield block.text
        elif isinstance(block, EmbeddedResource) and isinstance(block.resource, TextResourceContents):
            yield block.resource.text
        elif isinstance(block, ResourceLink):
            yield from (text for text in (block.title, block.description) if text)


def _strings(value: Any, found: dict[str, None], depth: int) -> bool:
    """Collect the string values of JSON ``value`` into ``found``; false when it nests deeper than `MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, str):
        if value:
            found[value] = None
        return True
    if isinstance(value, dict):
        return all(_strings(item, found, depth + 1) for item in value.values())
    if isinstance(value, list):
        return all(_strings(item, found, depth + 1) for item in value)
    return True


def _replaced(value: Any, texts: dict[str, str]) -> Any:
    """JSON ``value`` with each string replaced as ``texts`` says (depth already bounded by `_strings`)."""
    if isinstance(value, str):
        return texts.get(value, value)
    if isinstance(value, dict):
        return {key: _replaced(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, texts) for item in value]
    return value


async def _scanned(
    guard: aispm.Guard, result: CallToolResult, texts: list[str], *, monitor: bool, raise_on_deny: bool
) -> CallToolResult:
    """``result`` with every scanned text replaced by the scanner's text; `denied` when a scan denies."""
    rewritten: dict[str, str] = {}
    for text in texts:
        scan = await guard.output.ascan(text)
        if not scan.allowed and not monitor:
            return _refused(scan, raise_on_deny)
        if not monitor and scan.text != text:
            rewritten[text] = scan.text
    if not rewritten:
        return result
    content: list[Any] = []
    for block in result.content:
        if isinstance(block, TextContent) and block.text in rewritten:
            content.append(block.model_copy(update={"text": rewritten[block.text]}))
        elif (
            isinstance(block, EmbeddedResource)
            and isinstance(block.resource, TextResourceContents)
            and block.resource.text in rewritten
        ):
            resource = block.resource.model_copy(update={"text": rewritten[block.resource.text]})
            content.append(block.model_copy(update={"resource": resource}))
        elif isinstance(block, ResourceLink) and (block.title in rewritten or block.description in rewritten):
            title = rewritten.get(block.title, block.title) if block.title else block.title
            description = (
                rewritten.get(block.description, block.description) if block.description else block.description
            )
            content.append(block.model_copy(update={"title": title, "description": description}))
        else:
            content.append(block)
    changes: dict[str, Any] = {"content": content}
    if result.structured_content is not None:
        changes["structured_content"] = _replaced(result.structured_content, rewritten)
    return result.model_copy(update=changes)


def _refused(scan: aispm.TextDecision, raise_on_deny: bool) -> CallToolResult:
    if raise_on_deny:
        raise aispm.Blocked(scan)
    return denied()
