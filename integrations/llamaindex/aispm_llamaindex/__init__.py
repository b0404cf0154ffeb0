"""aispm for LlamaIndex: all four perimeters in a query engine, a chat engine or an agent.

Enforcing (each decides before the framework goes on, and rewrites what it must):

- `AispmNodePostprocessor`: the retrieval filter on retrieved nodes (access, redaction,
  quarantine), in any query engine or retriever pipeline; `metadata_filters` turns the
  principal's rights into ``MetadataFilters`` for the retriever (the pre-filter).
- `guard_tool` / `guard_tools` (`GuardedTool`): tool calls authorised with their arguments,
  results checked and scanned; `GuardedFunctionAgent`, `GuardedReActAgent`,
  `GuardedAgentWorkflow` (`GuardedAgentMixin`): every tool an agent calls, with the choice
  of a refusal to the model or an aborted run on deny.
- `guard_llm` (`GuardedLLM`): the prompt guard on messages, the output scanner on answers,
  streamed ones included.
- `guard_query_engine` / `guard_chat_engine`: the prompt guard on the query, the output
  scanner on the response, streamed ones included.

Observing: `instrument` registers `AispmEventHandler` and `AispmSpanHandler` on LlamaIndex's
instrumentation dispatcher, and reports model inputs and outputs, tool calls and retrievals
made anywhere in the app; LlamaIndex swallows handler exceptions, so it never blocks.

The principal is the caller's ``guard.session(...)``. See docs/integrations/llamaindex.md.
Names are imported on first use.
"""

from typing import TYPE_CHECKING

from aispm._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from .agents import GuardedAgentMixin as GuardedAgentMixin
    from .agents import GuardedAgentWorkflow as GuardedAgentWorkflow
    from .agents import GuardedFunctionAgent as GuardedFunctionAgent
    from .agents import GuardedReActAgent as GuardedReActAgent
    from .engines import GuardedChatEngine as GuardedChatEngine
    from .engines import GuardedQueryEngine as GuardedQueryEngine
    from .engines import guard_chat_engine as guard_chat_engine
    from .engines import guard_query_engine as guard_query_engine
    from .instrumentation import AispmEventHandler as AispmEventHandler
    from .instrumentation import AispmSpanHandler as AispmSpanHandler
    from .instrumentation import Instrumentation as Instrumentation
    from .instrumentation import instrument as instrument
    from .llm import GuardedLLM as GuardedLLM
    from .llm import guard_llm as guard_llm
    from .postprocessor import AispmNodePostprocessor as AispmNodePostprocessor
    from .postprocessor import metadata_filters as metadata_filters
    from .tools import DENIED as DENIED
    from .tools import WITHHELD as WITHHELD
    from .tools import GuardedTool as GuardedTool
    from .tools import guard_tool as guard_tool
    from .tools import guard_tools as guard_tools

_LAZY = {
    "AispmEventHandler": ".instrumentation",
    "AispmNodePostprocessor": ".postprocessor",
    "AispmSpanHandler": ".instrumentation",
    "DENIED": ".tools",
    "GuardedAgentMixin": ".agents",
    "GuardedAgentWorkflow": ".agents",
    "GuardedChatEngine": ".engines",
    "GuardedFunctionAgent": ".agents",
    "GuardedLLM": ".llm",
    "GuardedQueryEngine": ".engines",
    "GuardedReActAgent": ".agents",
    "GuardedTool": ".tools",
    "Instrumentation": ".instrumentation",
    "WITHHELD": ".tools",
    "guard_chat_engine": ".engines",
    "guard_llm": ".llm",
    "guard_query_engine": ".engines",
    "guard_tool": ".tools",
    "guard_tools": ".tools",
    "instrument": ".instrumentation",
    "metadata_filters": ".postprocessor",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
