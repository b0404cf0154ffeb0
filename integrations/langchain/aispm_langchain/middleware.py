"""`AispmMiddleware`: aispm's guards inside a LangChain 1.x ``create_agent`` loop.

One middleware covers three perimeters of an agent built with `langchain.agents.create_agent`:

- before each model call, the prompt guard checks the request's messages (tool results and
  earlier model turns as untrusted text), and the model sees the redacted messages;
- after it, the output scanner scans the answer, and the agent keeps the redacted answer;
- around each tool call, the tool authorizer decides (asking the guard's approver when the
  policy requires approval), and the tool's result goes through the prompt guard as untrusted
  text (which taints the session when it is flagged) and through the output scanner.

A deny either ends the step with a short refusal the agent can see (``on_deny="message"``) or
stops the run with `aispm.Blocked` (``on_deny="raise"``). In monitor mode nothing is blocked
or rewritten; every decision is still reported. The principal comes from the run's
``RunnableConfig`` (see `aispm_langchain._config`), else from the current `aispm` session.

Redacting the request changes only what the model sees (the agent's state keeps the caller's
messages); redacting the answer or a tool result changes what the agent keeps. Tokens streamed
with ``stream_mode="messages"`` are the model's raw output, before any redaction: stream an
agent through the output scanner instead (see the LCEL guards).

Example::

    from langchain.agents import create_agent

    agent = create_agent(model, tools=[search], middleware=[AispmMiddleware(guard)])
    with guard.session(user="alice", roles=["analyst"], agent="support-bot"):
        agent.invoke({"messages": [("user", "Summarise ticket 42")]})
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aispm
from aispm._session_memo import DecisionMemo, MemoKey

from ._config import session_from_config
from ._messages import content_texts, source_of
from .tools import DENIED, WITHHELD

try:
    from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
    from langchain.agents.middleware.types import ExtendedModelResponse
    from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
    from langgraph.prebuilt.tool_node import ToolCallRequest
    from langgraph.types import Command
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("langchain-agents", "langchain", "aispm_langchain.middleware") from None

__all__ = ["REFUSAL", "TOOL_REFUSAL", "WITHHELD", "AispmMiddleware"]

REFUSAL = "Request blocked by policy."
"""What the agent answers when the prompt guard or the output scanner denies (``on_deny="message"``)."""

TOOL_REFUSAL = DENIED
"""The error `ToolMessage` the model gets for a tool call the authorizer does not permit (as for a `GuardedTool`)."""

# WITHHELD (from .tools): what replaces a tool result the prompt guard flags.

_MEMO_SIZE = 2048

ModelResult = ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]
ToolResult = ToolMessage | Command[Any]


@dataclass(frozen=True, slots=True)
class _Text:
    """One text of one message that enters the model, and where it came from."""

    index: int  # position in the request's messages; -1 for the system message
    text: str
    source: str
    origin: str | None
    key: MemoKey | None  # its key in the session's memo (none outside a session)


class AispmMiddleware(AgentMiddleware[AgentState[Any], Any, Any]):
    """Agent middleware that puts a `aispm.Guard` around every model and tool call.

    Args:
        guard: The guard whose policy, mode and approver apply.
        on_deny: ``"message"`` (default): a denied model call ends with a refusal `AIMessage`,
            a denied tool call returns an error `ToolMessage` to the model, and a denied tool
            result is withheld, so the agent carries on. ``"raise"``: the run stops with
            `aispm.Blocked`, which carries the decision.
        name: The middleware's name; give each instance in one agent its own.

    Raises:
        PolicyError: ``on_deny`` or ``name`` is invalid.
    """

    def __init__(
        self,
        guard: aispm.Guard,
        *,
        on_deny: Literal["message", "raise"] = "message",
        name: str = "aispm",
    ) -> None:
        if on_deny not in ("message", "raise"):
            raise aispm.PolicyError(f"on_deny must be 'message' or 'raise', got {on_deny!r}")
        if not isinstance(name, str) or not name:
            raise aispm.PolicyError("name must be a non-empty string")
        super().__init__()
        self.guard = guard
        self.on_deny: Literal["message", "raise"] = on_deny
        self._name = name
        # Each model call resends the whole conversation: a text already decided in this
        # session (a message, a tool result) is not decided, reported or counted towards the
        # session's risk again. Keys hold a hash of the text, never the text.
        self._memo = DecisionMemo(_MEMO_SIZE)

    @property
    def name(self) -> str:
        """The middleware's name (its identity in ``create_agent``)."""
        return self._name

    def __repr__(self) -> str:
        return f"AispmMiddleware({self.guard!r}, on_deny={self.on_deny!r}, name={self._name!r})"

    # -- model calls -------------------------------------------------------------------------

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResult:
        """Check the request's messages, call the model, scan its answer."""
        with session_from_config(self.guard, _config(request)):
            texts = self._texts(request)
            decisions = []
            for t in texts:
                decision = self._memo_get(t.key)
                if decision is None:
                    decision = self._remember(t.key, self.guard.prompt.check(t.text, source=t.source, origin=t.origin))
                decisions.append(decision)
            refused = self._refuse(decisions)
            if refused is not None:
                return refused
            response = handler(self._redacted(request, texts, decisions))
            return self._scanned(response, [self.guard.output.scan(t) for t in _answer_texts(response)])

    async def awrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]]
    ) -> ModelResult:
        """Async twin of `wrap_model_call`."""
        with session_from_config(self.guard, _config(request)):
            texts = self._texts(request)
            decisions = []
            for t in texts:
                decision = self._memo_get(t.key)
                if decision is None:
                    checked = await self.guard.prompt.acheck(t.text, source=t.source, origin=t.origin)
                    decision = self._remember(t.key, checked)
                decisions.append(decision)
            refused = self._refuse(decisions)
            if refused is not None:
                return refused
            response = await handler(self._redacted(request, texts, decisions))
            return self._scanned(response, [await self.guard.output.ascan(t) for t in _answer_texts(response)])

    # -- tool calls --------------------------------------------------------------------------

    def wrap_tool_call(self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]) -> ToolResult:
        """Authorise the call, run the tool, check and scan its result."""
        call = request.tool_call
        with session_from_config(self.guard, _config(request)):
            try:
                self.guard.tools.authorize(call["name"], call.get("args") or {})
            except aispm.Blocked:
                if self.on_deny == "raise":
                    raise
                return _tool_refusal(request, TOOL_REFUSAL)
            result = handler(request)
            if not isinstance(result, ToolMessage):
                return result
            texts = content_texts(result.content)
            checked = [self.guard.prompt.check(t, source="tool", origin=call["name"]) for t in texts]
            self._remember_tool_result(call["name"], texts, checked)
            withheld = self._withheld(request, checked)
            if withheld is not None:
                return withheld
            scanned = [self.guard.output.scan(t) for t in self._passed(texts, checked)]
            return self._tool_result(request, result, checked, scanned)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[ToolResult]]
    ) -> ToolResult:
        """Async twin of `wrap_tool_call`; an approval handler is awaited without blocking the loop."""
        call = request.tool_call
        with session_from_config(self.guard, _config(request)):
            try:
                await self.guard.tools.aauthorize(call["name"], call.get("args") or {})
            except aispm.Blocked:
                if self.on_deny == "raise":
                    raise
                return _tool_refusal(request, TOOL_REFUSAL)
            result = await handler(request)
            if not isinstance(result, ToolMessage):
                return result
            texts = content_texts(result.content)
            checked = [await self.guard.prompt.acheck(t, source="tool", origin=call["name"]) for t in texts]
            self._remember_tool_result(call["name"], texts, checked)
            withheld = self._withheld(request, checked)
            if withheld is not None:
                return withheld
            scanned = [await self.guard.output.ascan(t) for t in self._passed(texts, checked)]
            return self._tool_result(request, result, checked, scanned)

    # -- shared logic ------------------------------------------------------------------------

    def _passed(self, texts: list[str], decisions: list[aispm.TextDecision]) -> list[str]:
        """What flows on after ``decisions``: their (redacted) values, or in monitor mode the texts themselves."""
        return texts if self.guard.mode != "enforce" else [d.text for d in decisions]

    def _withheld(self, request: ToolCallRequest, decisions: list[aispm.TextDecision]) -> ToolMessage | None:
        """The withheld result for the first blocking decision (or raise it); ``None`` when none blocks."""
        for decision in decisions:
            if self._blocks(decision):
                if self.on_deny == "raise":
                    raise aispm.Blocked(decision)
                return _tool_refusal(request, WITHHELD)
        return None

    def _blocks(self, decision: aispm.Decision[Any]) -> bool:
        return self.guard.mode == "enforce" and not decision.allowed

    def _refuse(self, decisions: list[aispm.TextDecision]) -> AIMessage | None:
        """The refusal for the first blocking decision (or raise it); ``None`` when none blocks."""
        for decision in decisions:
            if self._blocks(decision):
                if self.on_deny == "raise":
                    raise aispm.Blocked(decision)
                return AIMessage(content=REFUSAL)
        return None

    def _texts(self, request: ModelRequest[Any]) -> list[_Text]:
        """Every text of the request that enters the model, with its source."""
        found: list[_Text] = []
        messages: list[tuple[int, BaseMessage]] = list(enumerate(request.messages))
        if request.system_message is not None:
            messages.insert(0, (-1, request.system_message))
        for index, message in messages:
            source, origin = source_of(message)
            found.extend(
                _Text(index, t, source, origin, DecisionMemo.key(source, origin, t))
                for t in content_texts(message.content)
            )
        return found

    def _memo_get(self, key: MemoKey | None) -> aispm.TextDecision | None:
        return self._memo.get(key)

    def _remember(self, key: MemoKey | None, decision: aispm.TextDecision) -> aispm.TextDecision:
        self._memo.put(key, decision)
        return decision

    def _remember_tool_result(self, name: str, texts: list[str], decisions: list[aispm.TextDecision]) -> None:
        """Remember the decisions on a tool's result, so it is not decided again when it re-enters the model."""
        for text, decision in zip(texts, decisions, strict=True):
            self._remember(DecisionMemo.key("tool", name, text), decision)

    def _redacted(
        self, request: ModelRequest[Any], texts: list[_Text], decisions: list[aispm.TextDecision]
    ) -> ModelRequest[Any]:
        """The request with redacted texts in place (enforce mode); unchanged when nothing was redacted."""
        if self.guard.mode != "enforce":
            return request
        new_texts: dict[int, list[str]] = {}
        changed: set[int] = set()
        for text, decision in zip(texts, decisions, strict=True):
            new_texts.setdefault(text.index, []).append(decision.text)
            if decision.action is aispm.Action.REDACT:
                changed.add(text.index)
        if not changed:
            return request
        messages = list(request.messages)
        for index in changed - {-1}:
            content = _with_texts(messages[index].content, new_texts[index])
            messages[index] = messages[index].model_copy(update={"content": content})
        system = request.system_message
        if system is not None and -1 in changed:
            system = system.model_copy(update={"content": _with_texts(system.content, new_texts[-1])})
        return request.override(messages=messages, system_message=system)

    def _scanned(self, response: ModelResult, decisions: list[aispm.TextDecision]) -> ModelResult:
        """The model's answer with redacted texts in place, or the refusal when the scanner denies."""
        inner = response.model_response if isinstance(response, ExtendedModelResponse) else response
        result = [inner] if isinstance(inner, AIMessage) else list(inner.result)
        refused = self._refuse(decisions)
        if refused is not None:
            return ModelResponse(result=[refused])
        if self.guard.mode != "enforce" or all(d.action is not aispm.Action.REDACT for d in decisions):
            return response
        pending = iter(decisions)
        rewritten: list[BaseMessage] = []
        for message in result:
            if isinstance(message, AIMessage):
                texts = [next(pending).text for _ in content_texts(message.content)]
                message = message.model_copy(update={"content": _with_texts(message.content, texts)})
            rewritten.append(message)
        structured = None if isinstance(inner, AIMessage) else inner.structured_response
        new = ModelResponse(result=rewritten, structured_response=structured)
        if isinstance(response, ExtendedModelResponse):
            return ExtendedModelResponse(model_response=new, command=response.command)
        return new

    def _tool_result(
        self,
        request: ToolCallRequest,
        result: ToolMessage,
        checked: list[aispm.TextDecision],
        scanned: list[aispm.TextDecision],
    ) -> ToolResult:
        """The tool's result as the model may see it: withheld when the scanner denies, else redacted."""
        withheld = self._withheld(request, scanned)
        if withheld is not None:
            return withheld
        if self.guard.mode != "enforce":
            return result
        if all(d.action is not aispm.Action.REDACT for d in (*checked, *scanned)):
            return result
        content = _with_texts(result.content, [d.text for d in scanned])
        return result.model_copy(update={"content": content})


def _config(request: ModelRequest[Any] | ToolCallRequest) -> Mapping[str, Any] | None:
    """The run's ``RunnableConfig``: the tool runtime's, else the one langgraph holds for the running node."""
    config = getattr(getattr(request, "runtime", None), "config", None)
    if isinstance(config, Mapping):
        return config
    from langgraph.config import get_config

    try:
        return get_config()
    except RuntimeError:  # outside a runnable context: no config
        return None


def _with_texts(content: str | list[str | dict[str, Any]], texts: list[str]) -> str | list[str | dict[str, Any]]:
    """``content`` with its texts (as `_content_texts` lists them) replaced by ``texts``."""
    if isinstance(content, str):
        return texts[0] if texts else content
    pending = iter(texts)
    rebuilt: list[str | dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            rebuilt.append(next(pending))
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            rebuilt.append({**block, "text": next(pending)})
        else:
            rebuilt.append(block)
    return rebuilt


def _answer_texts(response: ModelResult) -> list[str]:
    """The texts of the model's answer (its `AIMessage`s), in order."""
    inner = response.model_response if isinstance(response, ExtendedModelResponse) else response
    result = [inner] if isinstance(inner, AIMessage) else inner.result
    return [t for m in result if isinstance(m, AIMessage) for t in content_texts(m.content)]


def _tool_refusal(request: ToolCallRequest, content: str) -> ToolMessage:
    call = request.tool_call
    return ToolMessage(content=content, tool_call_id=call["id"] or "", name=call["name"], status="error")
