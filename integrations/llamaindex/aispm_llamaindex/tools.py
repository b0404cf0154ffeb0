"""`GuardedTool`, `guard_tool` and `guard_tools`: LlamaIndex tools whose calls are authorised.

A guarded tool keeps the inner tool's `ToolMetadata` (name, description, ``fn_schema``,
``return_direct``), so a function-calling model sees the same tool. Before the inner tool runs,
``guard.tools.authorize`` decides on the call with its arguments (delegation from the session,
approval through the guard's approver). After it runs, the text of its `ToolOutput`
(``ToolOutput.content``, the text blocks joined as the agent's tool message joins them) is
checked as untrusted text coming back into the context (``guard.prompt``, source ``tool``: a
flagged result taints the session and, in enforce mode, is replaced by `WITHHELD`), then scanned
(``guard.output``: secrets and PII are redacted). The decision on the text the model reads is
remembered for the session (`aispm_llamaindex._memo`), so a guarded LLM does not decide it again.

What it cannot do: non-text blocks of a result (images, audio, documents, citable and citation
blocks) pass unscanned. A rewritten result carries the text the model reads as its
``raw_output``; the inner tool's raw value, which holds what was redacted, is dropped. LlamaIndex
agents inject a workflow `Context` only into a `FunctionTool`, so a ctx-requiring tool wrapped
here gets its ``Context`` only through the guarded agents of `aispm_llamaindex.agents`.

The authorise, check and scan steps are module functions that the guarded agents reuse: one
code path for a wrapped tool and for any tool an agent calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import aispm

from . import _memo
from ._scope import guarding

try:
    from llama_index.core.base.llms.types import ContentBlock, TextBlock
    from llama_index.core.tools import AsyncBaseTool, BaseTool, FunctionTool, ToolMetadata, ToolOutput
    from llama_index.core.tools.types import adapt_to_async_tool
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("llama-index-core", "llamaindex", "aispm_llamaindex.tools") from None

__all__ = ["DENIED", "WITHHELD", "GuardedTool", "OnDeny", "guard_tool", "guard_tools"]

DENIED = "tool call not permitted by policy"
"""What the model reads when a call is denied (``on_deny="message"``); the detail is in the span."""

WITHHELD = "[tool result withheld: flagged by policy]"
"""What replaces a tool result the prompt guard flags (enforce mode)."""

OnDeny = Literal["message", "raise"]
"""``message``: the model reads an error `ToolOutput`; ``raise``: `aispm.Blocked` propagates."""


class GuardedTool(AsyncBaseTool):
    """A LlamaIndex tool whose every call is authorised, and whose result is checked, by an aispm guard.

    Build it with `guard_tool`. ``metadata`` is the inner tool's, so the model sees the same
    name, description and schema. In enforce mode a denied (or unapproved) call never reaches
    the inner tool: with ``on_deny="message"`` the call returns an error `ToolOutput` whose
    content is `DENIED`; with ``on_deny="raise"``, `aispm.Blocked` propagates (inside a plain
    LlamaIndex agent it becomes an error output; a guarded agent re-raises it and aborts the
    run). A result the output scanner denies is handled the same way. In monitor mode every
    decision is reported and nothing is changed. The principal is the current
    ``guard.session(...)``. Exceptions of the inner tool propagate unchanged.
    """

    def __init__(self, inner: BaseTool, guard: aispm.Guard, *, on_deny: OnDeny = "message") -> None:
        """Wrap ``inner``; prefer `guard_tool`, which validates its arguments."""
        self._inner = inner
        self._runner: AsyncBaseTool = adapt_to_async_tool(inner)
        self._guard = guard
        self._on_deny: OnDeny = on_deny

    @property
    def inner(self) -> BaseTool:
        """The tool that runs once a call is authorised."""
        return self._inner

    @property
    def guard(self) -> aispm.Guard:
        """The guard that decides."""
        return self._guard

    @property
    def on_deny(self) -> OnDeny:
        """What a deny does: ``message`` (an error `ToolOutput`) or ``raise`` (`aispm.Blocked`)."""
        return self._on_deny

    @property
    def metadata(self) -> ToolMetadata:
        """The inner tool's metadata: the model sees the same tool."""
        return self._inner.metadata

    def __repr__(self) -> str:
        return f"GuardedTool({self._inner!r}, on_deny={self._on_deny!r})"

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Authorise the call, run the inner tool, check and scan its result.

        Returns:
            The inner tool's output, or a new one with the text the model may read; an error
            output with `DENIED` when the call or its result is denied (``on_deny="message"``).

        Raises:
            Blocked: The call or its result is denied and ``on_deny`` is ``"raise"``.
        """
        name = self.metadata.get_name()
        arguments = _call_arguments(self._inner, args, kwargs)
        denied = _authorize(self._guard, name, arguments, self._on_deny)
        if denied is not None:
            return denied
        with guarding():
            output = self._runner.call(*args, **kwargs)
        return _checked(self._guard, name, output, self._on_deny)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Async twin of `call`; an approval handler is awaited without blocking the loop."""
        name = self.metadata.get_name()
        arguments = _call_arguments(self._inner, args, kwargs)
        denied = await _aauthorize(self._guard, name, arguments, self._on_deny)
        if denied is not None:
            return denied
        with guarding():
            output = await self._runner.acall(*args, **kwargs)
        return await _achecked(self._guard, name, output, self._on_deny)


# -- shared with the guarded agents (aispm_llamaindex.agents): one code path -----------------------


def _call_arguments(tool: BaseTool, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments the model chose: positionals named by the tool's schema, without an injected ``Context``."""
    arguments = dict(kwargs)
    context = _context_param(tool)
    if context is not None:
        arguments.pop(context, None)
    if args:
        schema = tool.metadata.fn_schema
        fields = list(schema.model_fields) if schema is not None else ["input"]
        for index, value in enumerate(args):
            arguments[fields[index] if index < len(fields) else f"arg{index}"] = value
    return arguments


def _context_param(tool: BaseTool) -> str | None:
    """The name of the parameter a `FunctionTool` takes the workflow `Context` in, if it takes one."""
    if isinstance(tool, FunctionTool) and tool.requires_context and tool.ctx_param_name is not None:
        return tool.ctx_param_name
    return None


def _authorize(guard: aispm.Guard, name: str, arguments: dict[str, Any], on_deny: OnDeny) -> ToolOutput | None:
    """Authorise a call; ``None`` when it may run, else the error output the model reads.

    Raises:
        Blocked: The call is denied and ``on_deny`` is ``"raise"``.
    """
    try:
        guard.tools.authorize(name, arguments)
    except aispm.Blocked:
        if on_deny == "raise":
            raise
        return _denied_output(name, arguments)
    return None


async def _aauthorize(guard: aispm.Guard, name: str, arguments: dict[str, Any], on_deny: OnDeny) -> ToolOutput | None:
    """Async twin of `_authorize`."""
    try:
        await guard.tools.aauthorize(name, arguments)
    except aispm.Blocked:
        if on_deny == "raise":
            raise
        return _denied_output(name, arguments)
    return None


def _checked(guard: aispm.Guard, name: str, output: ToolOutput, on_deny: OnDeny) -> ToolOutput:
    """``output`` as the model may read it: checked as untrusted text, then scanned.

    Raises:
        Blocked: The scanner denies the result and ``on_deny`` is ``"raise"``.
    """
    text = output.content
    if not text:
        return output
    judged = guard.prompt.check(text, source="tool", origin=name)
    pending = _to_scan(guard, judged, text)
    scanned = None if pending is None else guard.output.scan(pending)
    return _settled(guard, name, output, text, judged, scanned, on_deny)


async def _achecked(guard: aispm.Guard, name: str, output: ToolOutput, on_deny: OnDeny) -> ToolOutput:
    """Async twin of `_checked`."""
    text = output.content
    if not text:
        return output
    judged = await guard.prompt.acheck(text, source="tool", origin=name)
    pending = _to_scan(guard, judged, text)
    scanned = None if pending is None else await guard.output.ascan(pending)
    return _settled(guard, name, output, text, judged, scanned, on_deny)


def _denied_output(name: str, arguments: Mapping[str, Any]) -> ToolOutput:
    """The error output a denied call returns: `DENIED`, never the reason (it is in the span)."""
    return ToolOutput(content=DENIED, tool_name=name, raw_input=dict(arguments), raw_output=None, is_error=True)


def _to_scan(guard: aispm.Guard, judged: aispm.TextDecision, text: str) -> str | None:
    """The text to scan after the prompt guard's decision; ``None`` when it is withheld."""
    if guard.mode == "monitor":
        return text
    return judged.text if judged.allowed else None


def _settled(
    guard: aispm.Guard,
    name: str,
    output: ToolOutput,
    text: str,
    judged: aispm.TextDecision,
    scanned: aispm.TextDecision | None,
    on_deny: OnDeny,
) -> ToolOutput:
    """The output the model reads, once the prompt guard and the scanner have decided on ``text``."""
    if guard.mode == "monitor":
        _memo.remember(guard, "tool", name, text, judged)
        return output
    if scanned is None:
        return _rewritten(output, WITHHELD)
    if not scanned.allowed:
        if on_deny == "raise":
            raise aispm.Blocked(scanned)
        return _denied_output(name, output.raw_input)
    read = scanned.text
    # The text passes with the prompt guard's decision; its value is what the model reads.
    _memo.remember(guard, "tool", name, read, dataclasses.replace(judged, value=read))
    return output if read == text else _rewritten(output, read)


def _rewritten(output: ToolOutput, text: str) -> ToolOutput:
    """A new output whose text blocks are replaced by ``text`` (where the first one was); others kept."""
    blocks: list[ContentBlock] = []
    placed = False
    for block in output.blocks:
        if not isinstance(block, TextBlock):
            blocks.append(block)
        elif not placed:
            blocks.append(TextBlock(text=text))
            placed = True
    return ToolOutput(
        tool_name=output.tool_name,
        blocks=blocks,
        raw_input=output.raw_input,
        raw_output=text,
        is_error=output.is_error,
        exception=output.exception,
    )


def guard_tool(
    guard: aispm.Guard, tool: BaseTool, *, on_deny: OnDeny = "message", risk: str | None = None
) -> GuardedTool:
    """Wrap ``tool`` (a `FunctionTool`, a `QueryEngineTool` or any `BaseTool`) so every call is authorised.

    Args:
        guard: The guard that decides.
        tool: The tool to wrap; it is not changed.
        on_deny: ``"message"`` (default): a denied call returns an error `ToolOutput` the model
            reads (`DENIED`) and the run goes on; ``"raise"``: `aispm.Blocked` propagates.
        risk: Declare the tool to the guard with this risk level (as ``guard.tools.register``);
            by default the policy must know the tool already.

    Returns:
        The guarded tool, with the inner tool's metadata.

    Raises:
        PolicyError: ``risk`` is not a level the policy knows.
        ValueError: ``on_deny`` is neither ``"message"`` nor ``"raise"``.
        TypeError: ``tool`` is not a LlamaIndex ``BaseTool``.
    """
    if on_deny not in ("message", "raise"):
        raise ValueError(f"on_deny must be 'message' or 'raise', got {on_deny!r}")
    if not isinstance(tool, BaseTool):
        raise TypeError(f"guard_tool needs a LlamaIndex BaseTool, got {type(tool).__name__}")
    if risk is not None:
        guard.tools.register(tool.metadata.get_name(), risk=risk, description=tool.metadata.description)
    return GuardedTool(tool, guard, on_deny=on_deny)


def guard_tools(guard: aispm.Guard, tools: Iterable[BaseTool], *, on_deny: OnDeny = "message") -> list[GuardedTool]:
    """`guard_tool` for each of ``tools``, in order."""
    return [guard_tool(guard, tool, on_deny=on_deny) for tool in tools]
