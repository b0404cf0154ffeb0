"""Guarded LlamaIndex agents: every tool call an agent makes is authorised and its result checked.

`GuardedAgentMixin` overrides ``_call_tool(ctx, tool, tool_input)``, the private method through
which ``BaseWorkflowAgent`` and ``AgentWorkflow`` run each tool call in llama-index-core 0.14
(it is private, so the adapter pins the minor version). For every tool, wrapped or not, the
guard's tool authorizer decides before the tool runs, then the result's text goes through the
prompt guard (as untrusted ``tool`` text, which taints the session when flagged) and the output
scanner, with the same functions as `aispm_llamaindex.tools.GuardedTool`. A `GuardedTool` of the
same guard is unwrapped, so it is authorised once, and its inner `FunctionTool` still gets the
workflow `Context` when it asks for one.

Ready classes: `GuardedFunctionAgent`, `GuardedReActAgent` (pydantic fields ``guard`` and
``on_deny``) and `GuardedAgentWorkflow` (``guard=`` and ``on_deny=`` keyword arguments). A plain
``AgentWorkflow`` runs its agents' tools itself, through its own ``_call_tool``: put guarded
agents in a `GuardedAgentWorkflow`, which applies each guarded agent's guard to that agent's
tools and its own guard to the other agents' tools. The multi-agent ``handoff`` tool is a tool
like the others: the policy must know it.

A deny with ``on_deny="message"`` returns an error `ToolOutput` with `DENIED` (the model reads
it and the run goes on); with ``on_deny="raise"``, ``await handler`` raises `aispm.Blocked` (so
does a `GuardedTool` built with ``on_deny="raise"``). LlamaIndex turns tool exceptions into error
outputs; the mixin finds a `aispm.Blocked` there and re-raises it, or, with
``on_deny="message"``, replaces it with `DENIED`. In monitor mode nothing is blocked or changed.
The principal is the caller's ``guard.session(...)``, which the workflow's steps inherit.

What it cannot do: a step replayed by ``ctx.wait_for_event`` (human in the loop) is authorised
again on each replay, approval included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aispm

from ._scope import guarding
from .tools import (
    DENIED,
    GuardedTool,
    OnDeny,
    _aauthorize,
    _achecked,
    _call_arguments,
    _denied_output,
)

try:
    from llama_index.core.agent.workflow import AgentWorkflow, BaseWorkflowAgent, FunctionAgent, ReActAgent
    from llama_index.core.tools import AsyncBaseTool, BaseTool, ToolOutput
    from llama_index.core.tools.types import adapt_to_async_tool
    from llama_index.core.workflow import Context
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("llama-index-core", "llamaindex", "aispm_llamaindex.agents") from None

__all__ = ["DENIED", "GuardedAgentMixin", "GuardedAgentWorkflow", "GuardedFunctionAgent", "GuardedReActAgent"]


class GuardedAgentMixin:
    """Mix into a LlamaIndex agent or ``AgentWorkflow`` (first in the bases) to guard its tool calls.

    The class it is mixed into provides ``guard`` and ``on_deny`` (see `GuardedFunctionAgent`),
    or overrides `_aispm_settings`.
    """

    if TYPE_CHECKING:
        guard: aispm.Guard
        on_deny: OnDeny

    async def _aispm_settings(self, ctx: Context) -> tuple[aispm.Guard, OnDeny]:
        """The guard and deny handling for the tool calls made now."""
        return self.guard, self.on_deny

    async def _call_tool(self, ctx: Context, tool: AsyncBaseTool, tool_input: dict[str, Any]) -> ToolOutput:
        """Authorise the call, run the tool (with its ``Context`` if it takes one), check its result.

        Raises:
            Blocked: The call or its result is denied and ``on_deny`` is ``"raise"`` (here or on
                the `GuardedTool`).
        """
        guard, on_deny = await self._aispm_settings(ctx)
        name = tool.metadata.get_name()
        target, on_deny = _unwrapped(guard, tool, on_deny)
        denied = await _aauthorize(guard, name, _call_arguments(target, (), tool_input), on_deny)
        if denied is not None:
            return denied
        parent: Any = super()  # BaseWorkflowAgent or AgentWorkflow: not a base of the mixin itself
        with guarding():
            output: ToolOutput = await parent._call_tool(ctx, target, tool_input)
        refused = _refused(output, name, tool_input, on_deny)
        return refused if refused is not None else await _achecked(guard, name, output, on_deny)


def _refused(output: ToolOutput, name: str, tool_input: dict[str, Any], on_deny: OnDeny) -> ToolOutput | None:
    """For a tool that raised `aispm.Blocked` (caught by LlamaIndex): raise it again, or the refusal; else ``None``.

    Raises:
        Blocked: The one the tool raised, when ``on_deny`` is ``"raise"``.
    """
    if not isinstance(output.exception, aispm.Blocked):
        return None
    if on_deny == "raise":
        raise output.exception
    return _denied_output(name, tool_input)


def _unwrapped(guard: aispm.Guard, tool: AsyncBaseTool, on_deny: OnDeny) -> tuple[AsyncBaseTool, OnDeny]:
    """The tool to run once authorised, and the deny handling: ``raise`` if any wrapper asks for it.

    `GuardedTool` layers of ``guard`` are peeled off (they would authorise and check again);
    a `GuardedTool` of another guard runs as it is and decides with its own guard too.
    """
    peeled: BaseTool = tool
    while isinstance(peeled, GuardedTool):
        on_deny = "raise" if peeled.on_deny == "raise" else on_deny
        if peeled.guard is guard:
            tool = adapt_to_async_tool(peeled.inner)
        peeled = peeled.inner
    return tool, on_deny


def _check_on_deny(on_deny: object) -> None:
    if on_deny not in ("message", "raise"):
        raise ValueError(f"on_deny must be 'message' or 'raise', got {on_deny!r}")


class GuardedFunctionAgent(GuardedAgentMixin, FunctionAgent):
    """A `FunctionAgent` whose tool calls are authorised and whose tool results are checked.

    Example::

        agent = GuardedFunctionAgent(guard=guard, tools=[search, send_email], llm=llm)
        with guard.session(user="alice", roles=["support"], agent="support-bot"):
            answer = await agent.run(user_msg="Mail Bob the summary")
    """

    guard: aispm.Guard
    """The guard that decides."""
    on_deny: OnDeny = "message"
    """``message``: the model reads `DENIED` and the run goes on; ``raise``: the run stops with `aispm.Blocked`."""


class GuardedReActAgent(GuardedAgentMixin, ReActAgent):
    """A `ReActAgent` whose tool calls are authorised and whose tool results (observations) are checked."""

    guard: aispm.Guard
    """The guard that decides."""
    on_deny: OnDeny = "message"
    """``message``: the model reads `DENIED` and the run goes on; ``raise``: the run stops with `aispm.Blocked`."""


class GuardedAgentWorkflow(GuardedAgentMixin, AgentWorkflow):
    """An ``AgentWorkflow`` whose agents' tool calls (``handoff`` included) are authorised and checked.

    Args:
        agents: The agents, as for ``AgentWorkflow``; guarded agents keep their guard and
            ``on_deny`` for their own tools.
        guard: The guard for the tools of agents that are not guarded; required unless every
            agent is a `GuardedAgentMixin`.
        on_deny: Deny handling for those tools (see `GuardedFunctionAgent`).
        **kwargs: Passed to ``AgentWorkflow``.

    Raises:
        ValueError: ``on_deny`` is invalid, or an agent is not guarded and ``guard`` is not given.
    """

    def __init__(
        self,
        agents: list[BaseWorkflowAgent],
        *,
        guard: aispm.Guard | None = None,
        on_deny: OnDeny = "message",
        **kwargs: Any,
    ) -> None:
        _check_on_deny(on_deny)
        if guard is None:
            for agent in agents:
                if not isinstance(agent, GuardedAgentMixin):
                    raise ValueError(f"agent {agent.name!r} is not guarded: pass guard= to GuardedAgentWorkflow")
        super().__init__(agents, **kwargs)
        self._aispm_guard = guard
        self._aispm_on_deny: OnDeny = on_deny

    async def _aispm_settings(self, ctx: Context) -> tuple[aispm.Guard, OnDeny]:
        """The current agent's guard and ``on_deny`` if it is guarded, else the workflow's."""
        agent: object = self.agents.get(await ctx.store.get("current_agent_name", default=self.root_agent))
        if isinstance(agent, GuardedAgentMixin):
            return await agent._aispm_settings(ctx)
        if self._aispm_guard is None:  # pragma: no cover - every agent was checked at construction
            raise ValueError("no guard for an agent that is not guarded")
        return self._aispm_guard, self._aispm_on_deny
