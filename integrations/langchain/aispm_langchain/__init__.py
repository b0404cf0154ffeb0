"""aispm for LangChain: all four perimeters in an existing LangChain application.

- `AispmCallbackHandler`: observe every model, tool and retriever run, and block (prompt guard,
  output scanner, tool authorizer, retrieval filter) by raising; it cannot rewrite.
- `GuardedRetriever`, `guard_tool` / `guard_tools`: wrappers that filter, redact and authorise.
- `prompt_guard` / `output_guard`: LCEL runnables (``prompt_guard(g) | model | output_guard(g)``),
  streaming only scanned chunks; `guarded_agent_stream` for agents streamed token by token.
- `AispmMiddleware`: one middleware for LangChain 1.x ``create_agent`` (needs the ``langchain``
  package: ``pip install "aispm[langchain-agents]"``).

The principal of a run can come from its ``RunnableConfig`` (``metadata`` keys ``aispm_user``,
``aispm_roles``, ``aispm_agent``, ...) as well as from ``guard.session(...)``. See
docs/integrations/langchain.md. Names are imported on first use: the middleware's module
imports ``langchain``, the rest only ``langchain-core``.
"""

from typing import TYPE_CHECKING

from aispm._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from ._config import CONFIG_KEYS as CONFIG_KEYS
    from .callbacks import AispmCallbackHandler as AispmCallbackHandler
    from .middleware import AispmMiddleware as AispmMiddleware
    from .retrievers import GuardedRetriever as GuardedRetriever
    from .runnables import OutputGuardRunnable as OutputGuardRunnable
    from .runnables import PromptGuardRunnable as PromptGuardRunnable
    from .runnables import aguarded_agent_stream as aguarded_agent_stream
    from .runnables import guarded_agent_stream as guarded_agent_stream
    from .runnables import output_guard as output_guard
    from .runnables import prompt_guard as prompt_guard
    from .tools import GuardedTool as GuardedTool
    from .tools import ToolDenied as ToolDenied
    from .tools import guard_tool as guard_tool
    from .tools import guard_tools as guard_tools

_LAZY = {
    "AispmCallbackHandler": ".callbacks",
    "AispmMiddleware": ".middleware",
    "CONFIG_KEYS": "._config",
    "GuardedRetriever": ".retrievers",
    "GuardedTool": ".tools",
    "OutputGuardRunnable": ".runnables",
    "PromptGuardRunnable": ".runnables",
    "ToolDenied": ".tools",
    "aguarded_agent_stream": ".runnables",
    "guard_tool": ".tools",
    "guard_tools": ".tools",
    "guarded_agent_stream": ".runnables",
    "output_guard": ".runnables",
    "prompt_guard": ".runnables",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
