"""`GuardedTool`, `guard_tool` and `guard_tools`: LangChain tools whose calls are authorised.

A guarded tool keeps the inner tool's name, description, args schema and response format, so
a tool-calling model sees the same tool. Before the inner tool runs, ``guard.tools.authorize``
decides on the call with its arguments (delegation from the session, approval through the
guard's approver). After it runs, its text output is checked as untrusted text coming back into
the context (``guard.prompt``, source ``tool``: a flagged result taints the session and, in
enforce mode, is replaced by `WITHHELD`), then scanned (``guard.output``: secrets and PII are
redacted). Only the content reaches the model: the artifact of a ``content_and_artifact`` tool
is passed on unscanned.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool, ToolException

import aispm

from ._config import session_from_config

__all__ = ["DENIED", "WITHHELD", "GuardedTool", "ToolDenied", "guard_tool", "guard_tools"]

DENIED = "tool call not permitted by policy"
"""What the model reads when a call is denied (``on_deny="message"``); the detail is in the span."""

WITHHELD = "[tool result withheld: flagged by policy]"
"""What replaces a tool result the prompt guard flags (enforce mode)."""

OnDeny = Literal["message", "raise"]

_CALL_ID: ContextVar[str | None] = ContextVar("aispm_langchain_tool_call_id", default=None)
"""The id of the tool call being run, for the inner tool (injected call ids, artifacts)."""


class ToolDenied(ToolException):
    """A guarded tool call was not permitted; with ``handle_tool_error`` it becomes an error ToolMessage.

    The message is always `DENIED`: a denial must not be an oracle. ``decision`` says why.
    """

    def __init__(self, decision: aispm.Decision[Any]) -> None:
        self.decision = decision
        super().__init__(DENIED)


class GuardedTool(BaseTool):
    """A tool whose every call is authorised, and whose output is checked, by an aispm guard.

    Build it with `guard_tool`, which copies the inner tool's name, description, args schema
    and response format. In enforce mode a denied (or unapproved) call never reaches the inner
    tool: with ``on_deny="message"`` it raises `ToolDenied`, which ``handle_tool_error`` turns
    into an error ``ToolMessage`` for the model; with ``on_deny="raise"``, `aispm.Blocked`
    propagates and stops the run. An output the scanner denies is handled the same way. In
    monitor mode every decision is reported and nothing is changed.

    The session is the one the run's config names (see `aispm_langchain._config`), else the
    current ``guard.session(...)``.
    """

    inner: BaseTool
    """The tool that runs once a call is authorised."""
    guard: aispm.Guard
    """The guard that decides."""
    on_deny: OnDeny = "message"
    """``message``: the model gets an error ToolMessage; ``raise``: `aispm.Blocked` stops the run."""

    def run(self, tool_input: str | dict[str, Any], *args: Any, tool_call_id: str | None = None, **kwargs: Any) -> Any:
        """Run the tool (see ``BaseTool.run``), remembering the tool call's id for the inner tool."""
        token = _CALL_ID.set(tool_call_id)
        try:
            return super().run(tool_input, *args, tool_call_id=tool_call_id, **kwargs)
        finally:
            _CALL_ID.reset(token)

    async def arun(
        self, tool_input: str | dict[str, Any], *args: Any, tool_call_id: str | None = None, **kwargs: Any
    ) -> Any:
        """Async twin of `run`."""
        token = _CALL_ID.set(tool_call_id)
        try:
            return await super().arun(tool_input, *args, tool_call_id=tool_call_id, **kwargs)
        finally:
            _CALL_ID.reset(token)

    def _run(
        self,
        *args: Any,
        aispm_config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        with session_from_config(self.guard, aispm_config):
            try:
                self.guard.tools.authorize(self.name, self._arguments(args, kwargs))
            except aispm.Blocked as blocked:
                raise self._denied(blocked) from None
            config = patch_config(aispm_config, callbacks=run_manager.get_child() if run_manager else None)
            out = self.inner.invoke(self._inner_input(args, kwargs), config=config)
            content, artifact = self._split(out)
            checked = self._checked(content)
        return (checked, artifact) if self.response_format == "content_and_artifact" else checked

    async def _arun(
        self,
        *args: Any,
        aispm_config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        with session_from_config(self.guard, aispm_config):
            try:
                await self.guard.tools.aauthorize(self.name, self._arguments(args, kwargs))
            except aispm.Blocked as blocked:
                raise self._denied(blocked) from None
            config = patch_config(aispm_config, callbacks=run_manager.get_child() if run_manager else None)
            out = await self.inner.ainvoke(self._inner_input(args, kwargs), config=config)
            content, artifact = self._split(out)
            checked = await self._achecked(content)
        return (checked, artifact) if self.response_format == "content_and_artifact" else checked

    # -- before the call -----------------------------------------------------------

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments the model chose (injected ones, such as a runtime or state, left out)."""
        if args:  # a single-string tool
            return {next(iter(self.args), "tool_input"): args[0]}
        visible = self.args
        return {k: v for k, v in kwargs.items() if k in visible}

    def _inner_input(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """What the inner tool is invoked with: a ToolCall where it needs one, else the arguments."""
        call_id = _CALL_ID.get()
        injected = not args and any(k not in self.args for k in kwargs)
        if self.inner.response_format != "content_and_artifact" and (call_id is None or not injected):
            return args[0] if args else kwargs
        arguments = {next(iter(self.args), "tool_input"): args[0]} if args else kwargs
        return {"name": self.inner.name, "args": arguments, "id": call_id or "aispm", "type": "tool_call"}

    def _denied(self, blocked: aispm.Blocked) -> Exception:
        return ToolDenied(blocked.decision) if self.on_deny == "message" else blocked

    def _split(self, out: Any) -> tuple[Any, Any]:
        """The inner tool's result as (content, artifact)."""
        if isinstance(out, ToolMessage):
            return out.content, out.artifact
        if self.inner.response_format == "content_and_artifact" and isinstance(out, tuple) and len(out) == 2:
            return out
        return out, None

    # -- after the call -------------------------------------------------------------

    def _checked(self, content: Any) -> Any:
        """``content`` as the model may read it (sync)."""
        texts = _texts(content)
        done = []
        for text in texts:
            pending = self._to_scan(text, self.guard.prompt.check(text, source="tool", origin=self.name))
            done.append(self._settled(text, None if pending is None else self.guard.output.scan(pending)))
        return _rebuilt(content, texts, done)

    async def _achecked(self, content: Any) -> Any:
        """``content`` as the model may read it (async)."""
        texts = _texts(content)
        done = []
        for text in texts:
            pending = self._to_scan(text, await self.guard.prompt.acheck(text, source="tool", origin=self.name))
            done.append(self._settled(text, None if pending is None else await self.guard.output.ascan(pending)))
        return _rebuilt(content, texts, done)

    def _to_scan(self, text: str, judged: aispm.TextDecision) -> str | None:
        """The text to scan after the prompt guard's decision; ``None`` when it is withheld."""
        if self.guard.mode == "monitor":
            return text
        return judged.text if judged.allowed else None

    def _settled(self, text: str, scanned: aispm.TextDecision | None) -> str:
        """What the model reads in place of ``text``."""
        if scanned is None:
            return WITHHELD
        if self.guard.mode == "monitor":
            return text
        if not scanned.allowed:
            raise self._denied(aispm.Blocked(scanned))
        return scanned.text


def _texts(content: Any) -> list[str]:
    """The texts in a tool result: a string, the text blocks of a list, or the JSON of anything else."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list) and all(_is_block(item) for item in content):
        return [item if isinstance(item, str) else str(item.get("text", "")) for item in content if _is_text(item)]
    return [_stringify(content)]


def _rebuilt(content: Any, texts: list[str], done: list[str]) -> Any:
    """``content`` with each of ``texts`` replaced by what ``done`` says; the object itself when unchanged."""
    if done == texts:
        return content
    if isinstance(content, str):
        return done[0]
    if isinstance(content, list) and all(_is_block(item) for item in content):
        replaced = iter(done)
        rebuilt: list[Any] = []
        for item in content:
            if not _is_text(item):
                rebuilt.append(item)
            elif isinstance(item, str):
                rebuilt.append(next(replaced))
            else:
                rebuilt.append({**item, "text": next(replaced)})
        return rebuilt
    return done[0]


def _is_block(item: Any) -> bool:
    return isinstance(item, (str, Mapping))


def _is_text(item: Any) -> bool:
    return isinstance(item, str) or (isinstance(item, Mapping) and item.get("type") == "text")


def _stringify(content: Any) -> str:
    """A non-text result as LangChain puts it in a ToolMessage: JSON where it can, else ``str``."""
    try:
        return json.dumps(content, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(content)


def guard_tool(
    guard: aispm.Guard, tool: BaseTool, *, on_deny: OnDeny = "message", risk: str | None = None
) -> GuardedTool:
    """Wrap ``tool`` (a ``BaseTool``, ``StructuredTool`` or ``@tool`` function) so every call is authorised.

    Args:
        guard: The guard that decides.
        tool: The tool to wrap; it is not changed.
        on_deny: ``"message"`` (default): a denied call becomes an error ``ToolMessage`` the
            model reads (`DENIED`) and the run goes on; ``"raise"``: `aispm.Blocked` propagates.
        risk: Declare the tool to the guard with this risk level (as ``guard.tools.register``);
            by default the policy must know the tool already.

    Returns:
        The guarded tool, with the inner tool's name, description, args schema and response format.

    Raises:
        PolicyError: ``risk`` is not a level the policy knows.
        ValueError: ``on_deny`` is neither ``"message"`` nor ``"raise"``.
    """
    if on_deny not in ("message", "raise"):
        raise ValueError(f"on_deny must be 'message' or 'raise', got {on_deny!r}")
    if not isinstance(tool, BaseTool):
        raise TypeError(f"guard_tool needs a BaseTool (or an @tool function), got {type(tool).__name__}")
    if risk is not None:
        guard.tools.register(tool.name, risk=risk, description=tool.description)
    handle_tool_error = tool.handle_tool_error
    if on_deny == "message" and not handle_tool_error:
        handle_tool_error = True
    return GuardedTool(
        inner=tool,
        guard=guard,
        on_deny=on_deny,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        response_format=tool.response_format,
        return_direct=tool.return_direct,
        handle_tool_error=handle_tool_error,
        handle_validation_error=tool.handle_validation_error,
    )


def guard_tools(guard: aispm.Guard, tools: Iterable[BaseTool], *, on_deny: OnDeny = "message") -> list[GuardedTool]:
    """`guard_tool` for each of ``tools``, in order."""
    return [guard_tool(guard, tool, on_deny=on_deny) for tool in tools]
