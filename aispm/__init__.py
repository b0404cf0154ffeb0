"""aispm: security guards inside the AI agent loop, and a live security posture.

Start with `Guard`::

    import aispm

    guard = aispm.Guard()
    with guard.session(user="alice", roles=["analyst"], agent="support-bot"):
        decision = guard.prompt.check(user_text)

``import aispm`` stays cheap (no pydantic, no OpenTelemetry): `Guard` and
`Policy` are imported on first use, which is when those costs are paid.
"""

import typing as _typing

from ._lazy import lazy_exports as _lazy_exports
from ._version import __version__ as __version__
from .decisions import Action as Action
from .decisions import Decision as Decision
from .decisions import Dropped as Dropped
from .decisions import Finding as Finding
from .decisions import RetrievalDecision as RetrievalDecision
from .decisions import Severity as Severity
from .decisions import TextDecision as TextDecision
from .decisions import ToolDecision as ToolDecision
from .decisions import combine as combine
from .errors import AispmError as AispmError
from .errors import Blocked as Blocked
from .errors import GuardFailed as GuardFailed
from .errors import MissingExtraError as MissingExtraError
from .errors import PolicyError as PolicyError
from .errors import PolicyIssue as PolicyIssue
from .principals import Session as Session
from .principals import current_session as current_session

if _typing.TYPE_CHECKING:
    from .delegation import Delegation as Delegation
    from .delegation import DelegationError as DelegationError
    from .delegation import DelegationVerifier as DelegationVerifier
    from .delegation import Scope as Scope
    from .guard import Guard as Guard
    from .identity import AgentIdentity as AgentIdentity
    from .identity import KeyRing as KeyRing
    from .identity import SignatureError as SignatureError
    from .identity import SignedMessage as SignedMessage
    from .identity import verify as verify
    from .policy import Policy as Policy

_LAZY = {
    "Guard": ".guard",
    "Policy": ".policy",
    "AgentIdentity": ".identity",
    "KeyRing": ".identity",
    "SignatureError": ".identity",
    "SignedMessage": ".identity",
    "verify": ".identity",
    "Delegation": ".delegation",
    "DelegationError": ".delegation",
    "DelegationVerifier": ".delegation",
    "Scope": ".delegation",
}

__all__ = [
    "Action",
    "AgentIdentity",
    "AispmError",
    "Blocked",
    "combine",
    "current_session",
    "Decision",
    "Delegation",
    "DelegationError",
    "DelegationVerifier",
    "Dropped",
    "Finding",
    "Guard",
    "GuardFailed",
    "KeyRing",
    "MissingExtraError",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "RetrievalDecision",
    "Scope",
    "Session",
    "Severity",
    "SignatureError",
    "SignedMessage",
    "TextDecision",
    "ToolDecision",
    "verify",
]


__getattr__, __dir__ = _lazy_exports(  # PEP 562: the heavy public names (pydantic, OpenTelemetry) on first use
    __name__, _LAZY, globals()
)
