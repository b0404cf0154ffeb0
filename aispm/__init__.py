"""aispm: security guards inside the AI agent loop, and a live security posture.

Start with `Guard`::

    import aispm

    guard = aispm.Guard()
    with guard.session(user="alice", roles=["analyst"], agent="support-bot"):
        decision = guard.prompt.check(user_text)
"""

from ._version import __version__ as __version__
from .decisions import Action as Action
from .decisions import Decision as Decision
from .decisions import Finding as Finding
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
from .guard import Guard as Guard
from .policy import Policy as Policy
from .principals import Session as Session
from .principals import current_session as current_session

__all__ = [
    "Action",
    "AispmError",
    "Blocked",
    "combine",
    "current_session",
    "Decision",
    "Finding",
    "Guard",
    "GuardFailed",
    "MissingExtraError",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "Session",
    "Severity",
    "TextDecision",
    "ToolDecision",
]
