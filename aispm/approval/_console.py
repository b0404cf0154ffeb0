"""`ConsoleApprover`: a y/N prompt on a terminal that shows exactly what is asked."""

from __future__ import annotations

import getpass
import reprlib
import sys
import threading
from typing import TextIO

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ._request import _MAX_ITEMS, ApprovalRequest, ApprovalResponse, _text


def _printable(text: str, limit: int) -> str:
    """Truncate, then escape control, format and bidi characters so the terminal shows what is there."""
    cut = text[:limit]
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in cut)
    return shown + ("..." if len(text) > limit else "")


class ConsoleApprover:
    """Ask on a terminal: prints the request and reads ``y``/``yes`` (anything else is no).

    Everything printed is escaped, so arguments chosen by a model cannot move the
    cursor, recolour or reorder the text (ANSI escapes, bidi overrides). An answer
    read after the request's deadline is a no. Prompts are serialised per instance.

    Args:
        input: Where answers are read from (default ``sys.stdin``, looked up per call).
        output: Where the request is printed (default ``sys.stdout``).
        approver: The identity recorded (default: the OS user name).
        clock: For timestamps and the deadline check.
        max_value_chars: Each argument value is shown truncated to this length.
    """

    def __init__(
        self,
        *,
        input: TextIO | None = None,
        output: TextIO | None = None,
        approver: str | None = None,
        clock: Clock = utc_now,
        max_value_chars: int = 200,
    ) -> None:
        if approver is None:
            try:
                approver = getpass.getuser()
            except (OSError, KeyError, ImportError):  # no login name in this environment
                approver = "console"
        self.approver = _text(approver, "approver")
        if (
            isinstance(max_value_chars, bool)
            or not isinstance(max_value_chars, int)
            or not 8 <= max_value_chars <= 10_000
        ):
            raise PolicyError("max_value_chars must be an int in [8, 10000]")
        self._input, self._output, self._clock = input, output, clock
        self._repr = reprlib.Repr()
        self._repr.maxstring = self._repr.maxother = max_value_chars
        self._repr.maxlevel, self._repr.maxdict, self._repr.maxlist = 3, 8, 8
        self._limit = max_value_chars
        self._lock = threading.Lock()

    def render(self, request: ApprovalRequest) -> str:
        """The text shown for ``request``: tool, risk, chain, delegation, reasons and arguments."""
        p = self._limit
        lines = [
            f"Approval needed ({request.id})",
            f"  tool:       {_printable(request.tool, p)}",
            f"  risk:       {_printable(request.risk, p)}",
            f"  chain:      {_printable(' -> '.join(request.chain) or '(none)', 4 * p)}",
            f"  delegation: {_printable(request.delegation_id or '(none)', p)}",
            f"  reasons:    {_printable(', '.join(request.reasons) or '(none)', 4 * p)}",
            f"  deadline:   {request.deadline.isoformat(timespec='seconds')}",
            "  arguments:" + ("" if request.arguments else " (none)"),
        ]
        items = list(request.arguments.items())
        for key, value in items[:_MAX_ITEMS]:
            lines.append(f"    {_printable(key, p)} = {_printable(self._repr.repr(value), 2 * p)}")
        if len(items) > _MAX_ITEMS:
            lines.append(f"    ... and {len(items) - _MAX_ITEMS} more")
        return "\n".join(lines) + "\n"

    def __call__(self, request: ApprovalRequest) -> ApprovalResponse:
        """Print ``request``, read one line and answer; end of input is a no."""
        with self._lock:
            out = self._output if self._output is not None else sys.stdout
            out.write(self.render(request) + "Approve? [y/N] ")
            out.flush()
            line = (self._input if self._input is not None else sys.stdin).readline(1024)
            now = self._clock()
            word = line.strip().lower()
            reason: str | None
            if now > request.deadline:
                approved, reason = False, "answered after the deadline"
            elif not line:
                approved, reason = False, "no answer (end of input)"
            else:
                approved = word in ("y", "yes")
                reason = None if word in ("y", "yes", "n", "no") else "unrecognised answer"
            out.write("approved\n" if approved else "denied\n")
            out.flush()
            return ApprovalResponse(approved, self.approver, reason, now)
