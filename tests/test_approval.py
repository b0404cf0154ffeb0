"""Human approval: handlers, timeouts, the console prompt, the reviewer queue and retries."""

from __future__ import annotations

import asyncio
import contextvars
import getpass
import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aispm import PolicyError
from aispm.approval import (
    AlreadyAnsweredError,
    ApprovalError,
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ApprovalStatus,
    ApprovalTimeoutError,
    ConsoleApprover,
    InMemoryApprovalStore,
    QueueApprover,
    UnknownApprovalError,
    aresolve,
    resolve,
    retrying,
)
from aispm.testing import ManualClock

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CHAIN = ("user:alice", "agent:planner", "agent:mailer")
TINY = 0.05  # a real timeout, for the tests that must see one expire


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_request(clock: ManualClock, *, timeout: float = 60.0, **kwargs: Any) -> ApprovalRequest:
    fields: dict[str, Any] = {
        "chain": CHAIN,
        "delegation_id": "grant-1",
        "risk": "external_communication",
        "reasons": ("tools.risk.external_communication",),
    }
    fields.update(kwargs)
    return ApprovalRequest.create(
        "send_email", {"to": "[REDACTED:EMAIL]", "subject": "Q3"}, timeout=timeout, clock=clock, **fields
    )


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Unblocks the handlers a test abandoned, so their threads end with the test."""
    event = threading.Event()
    yield event
    event.set()


Resolve = Callable[..., Awaitable[ApprovalOutcome]]


@pytest.fixture(params=["resolve", "aresolve"])
def run(request: pytest.FixtureRequest, clock: ManualClock) -> Resolve:
    """``resolve`` or ``await aresolve``, with the fake clock."""

    async def call(handler: Any, req: ApprovalRequest, **kwargs: Any) -> ApprovalOutcome:
        kwargs.setdefault("clock", clock)
        if request.param == "resolve":
            return resolve(handler, req, **kwargs)
        return await aresolve(handler, req, **kwargs)

    return call


def handler_of(kind: str, answer: Callable[[ApprovalRequest], Any]) -> Any:
    """A sync function, an async function, or an object with an async ``__call__``."""
    if kind == "sync":

        def sync_handler(request: ApprovalRequest) -> Any:
            return answer(request)

        return sync_handler
    if kind == "async":

        async def async_handler(request: ApprovalRequest) -> Any:
            await asyncio.sleep(0)
            return answer(request)

        return async_handler

    class AsyncCallable:
        async def __call__(self, request: ApprovalRequest) -> Any:
            return answer(request)

    return AsyncCallable()


KINDS = ["sync", "async", "async_callable"]


# ---------------------------------------------------------------------------- answers


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("answer", "status"), [(True, ApprovalStatus.APPROVED), (False, ApprovalStatus.DENIED)])
async def test_bool_answer_records_the_handler_as_approver(
    run: Resolve, clock: ManualClock, kind: str, answer: bool, status: ApprovalStatus
) -> None:
    request = make_request(clock)
    outcome = await run(handler_of(kind, lambda r: answer), request)
    assert outcome.status is status
    assert outcome.approved is answer
    assert outcome.request_id == request.id
    assert outcome.approver is not None
    assert outcome.approver.startswith("handler:")
    assert outcome.decided_at == T0
    assert outcome.duration_ns > 0
    assert outcome.rule_id == f"approval.{status.value}"


async def test_bool_answer_records_the_given_approver(run: Resolve, clock: ManualClock) -> None:
    outcome = await run(lambda r: True, make_request(clock), approver="ops-oncall")
    assert outcome.approver == "ops-oncall"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("approved", [True, False])
async def test_response_records_approver_reason_and_answer_time(
    run: Resolve, clock: ManualClock, kind: str, approved: bool
) -> None:
    answered = T0 + timedelta(seconds=3)
    handler = handler_of(kind, lambda r: ApprovalResponse(approved, "bob", "checked the recipient", answered))
    outcome = await run(handler, make_request(clock), approver="ignored")
    assert outcome.approved is approved
    assert (outcome.approver, outcome.reason, outcome.answered_at) == ("bob", "checked the recipient", answered)
    assert outcome.to_record() == {
        "request_id": outcome.request_id,
        "outcome": "approved" if approved else "denied",
        "approver": "bob",
        "reason": "checked the recipient",
        "answered_at": answered.isoformat(),
        "decided_at": T0.isoformat(),
        "duration_ms": outcome.duration_ns // 1_000_000,
    }


class LooksLikeAResponse:
    approved = True
    approver = "mallory"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "answer", [None, "yes", "true", 1, 1.0, object(), LooksLikeAResponse(), [True], {"approved": True}], ids=repr
)
async def test_malformed_answer_is_an_error_and_a_deny(
    run: Resolve, clock: ManualClock, kind: str, answer: Any
) -> None:
    outcome = await run(handler_of(kind, lambda r: answer), make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert not outcome.approved
    assert outcome.approver is None
    assert type(answer).__name__ in outcome.detail


async def test_a_response_tampered_after_construction_is_malformed(run: Resolve, clock: ManualClock) -> None:
    response = ApprovalResponse(False, "bob", None, T0)
    object.__setattr__(response, "approved", "yes")  # bypasses validation; must not count as a yes
    outcome = await run(lambda r: response, make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR


@pytest.mark.parametrize("kind", KINDS)
async def test_raising_handler_is_an_error_and_never_leaks_the_message(
    run: Resolve, clock: ManualClock, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(request: ApprovalRequest) -> bool:
        raise RuntimeError("token=sk-live-SECRET")

    outcome = await run(handler_of(kind, explode), make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert not outcome.approved
    assert isinstance(outcome.error, RuntimeError)
    assert outcome.detail == "the handler raised RuntimeError"
    assert "SECRET" not in repr(outcome)
    assert "SECRET" not in str(outcome.to_record())
    assert "SECRET" not in caplog.text
    assert "RuntimeError" in caplog.text


async def test_handler_that_cannot_be_called_is_an_error(run: Resolve, clock: ManualClock) -> None:
    outcome = await run(lambda: True, make_request(clock))  # wrong signature
    assert outcome.status is ApprovalStatus.ERROR
    assert isinstance(outcome.error, TypeError)


@pytest.mark.parametrize("kind", KINDS)
async def test_handler_reporting_no_answer_is_a_timeout(run: Resolve, clock: ManualClock, kind: str) -> None:
    def no_answer(request: ApprovalRequest) -> bool:
        raise ApprovalTimeoutError("nobody answered")

    outcome = await run(handler_of(kind, no_answer), make_request(clock))
    assert outcome.status is ApprovalStatus.TIMEOUT


@pytest.mark.parametrize("kind", KINDS)
async def test_a_handlers_own_timeout_error_is_an_error_not_ours(run: Resolve, clock: ManualClock, kind: str) -> None:
    def network_timeout(request: ApprovalRequest) -> bool:
        raise TimeoutError("read timed out")

    outcome = await run(handler_of(kind, network_timeout), make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR


async def test_sync_handler_raising_system_exit_in_its_thread_is_an_error(run: Resolve, clock: ManualClock) -> None:
    def exits(request: ApprovalRequest) -> bool:
        raise SystemExit(3)

    outcome = await run(exits, make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert isinstance(outcome.error, SystemExit)


# ---------------------------------------------------------------------------- timeouts


async def test_sync_handler_that_never_answers_times_out(
    run: Resolve, clock: ManualClock, release: threading.Event
) -> None:
    def stuck(request: ApprovalRequest) -> bool:
        release.wait(10)
        return True  # too late: the decision was made without it

    outcome = await run(stuck, make_request(clock), timeout=TINY)
    assert outcome.status is ApprovalStatus.TIMEOUT
    assert not outcome.approved
    assert outcome.approver is None
    assert TINY * 1e9 <= outcome.duration_ns < 2e9


async def test_async_handler_that_never_answers_times_out_and_is_cancelled(run: Resolve, clock: ManualClock) -> None:
    cancelled = threading.Event()

    async def stuck(request: ApprovalRequest) -> bool:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    outcome = await run(stuck, make_request(clock), timeout=TINY)
    assert outcome.status is ApprovalStatus.TIMEOUT
    assert cancelled.wait(2)  # under resolve, by the worker thread's own loop


async def test_async_handler_that_swallows_cancellation_still_times_out(clock: ManualClock) -> None:
    async def stubborn(request: ApprovalRequest) -> bool:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return True  # tries to approve after being cancelled
        return False

    outcome = await aresolve(stubborn, make_request(clock), timeout=TINY, clock=clock)
    assert outcome.status is ApprovalStatus.TIMEOUT


async def test_timeout_never_outlasts_the_request_deadline(
    run: Resolve, clock: ManualClock, release: threading.Event
) -> None:
    request = make_request(clock, timeout=TINY)  # due in TINY s by the (frozen) fake clock
    outcome = await run(lambda r: release.wait(10), request, timeout=60)
    assert outcome.status is ApprovalStatus.TIMEOUT
    assert outcome.duration_ns < 2e9


async def test_request_past_its_deadline_is_a_timeout_without_asking(run: Resolve, clock: ManualClock) -> None:
    request = make_request(clock, timeout=30)
    clock.advance(31)
    asked: list[ApprovalRequest] = []
    outcome = await run(asked.append, request, timeout=10)
    assert outcome.status is ApprovalStatus.TIMEOUT
    assert asked == []


async def test_slow_sync_handler_under_aresolve_does_not_block_the_loop(clock: ManualClock) -> None:
    release = threading.Event()
    other_task_ran = False

    def slow(request: ApprovalRequest) -> bool:
        return release.wait(5)  # True only if another task on the loop could run and set it

    async def other_task() -> None:
        nonlocal other_task_ran
        other_task_ran = True
        release.set()

    outcome, _ = await asyncio.gather(aresolve(slow, make_request(clock), timeout=5, clock=clock), other_task())
    assert other_task_ran
    assert outcome.status is ApprovalStatus.APPROVED


async def test_async_handler_under_sync_resolve_runs_in_a_fresh_loop_in_a_worker_thread(clock: ManualClock) -> None:
    caller_loop = asyncio.get_running_loop()  # resolve is called with a loop running: no asyncio.run here
    seen: dict[str, Any] = {}

    async def handler(request: ApprovalRequest) -> bool:
        seen["loop"] = asyncio.get_running_loop()
        seen["thread"] = threading.current_thread()
        return True

    outcome = resolve(handler, make_request(clock), timeout=5, clock=clock)
    assert outcome.approved
    assert seen["loop"] is not caller_loop
    assert seen["thread"] is not threading.current_thread()


CURRENT_USER: contextvars.ContextVar[str] = contextvars.ContextVar("current_user", default="nobody")


async def test_handler_thread_sees_the_callers_context(run: Resolve, clock: ManualClock) -> None:
    token = CURRENT_USER.set("alice")
    try:
        outcome = await run(lambda r: CURRENT_USER.get() == "alice", make_request(clock))
    finally:
        CURRENT_USER.reset(token)
    assert outcome.approved


async def test_cancelling_the_caller_propagates(clock: ManualClock) -> None:
    async def stuck(request: ApprovalRequest) -> bool:
        await asyncio.Event().wait()
        return True

    task = asyncio.create_task(aresolve(stuck, make_request(clock), timeout=10, clock=clock))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_handler_raising_cancelled_error_by_itself_is_an_error(clock: ManualClock) -> None:
    async def handler(request: ApprovalRequest) -> bool:
        raise asyncio.CancelledError

    outcome = await aresolve(handler, make_request(clock), timeout=10, clock=clock)
    assert outcome.status is ApprovalStatus.ERROR


async def test_too_many_handler_threads_fail_closed(
    run: Resolve, clock: ManualClock, release: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aispm.approval._running._THREADS", threading.BoundedSemaphore(1))
    first = await run(lambda r: release.wait(10), make_request(clock), timeout=TINY)
    assert first.status is ApprovalStatus.TIMEOUT  # its thread still runs and holds the only slot
    second = await run(lambda r: True, make_request(clock))
    assert second.status is ApprovalStatus.ERROR
    assert isinstance(second.error, ApprovalError)


async def test_a_thread_that_cannot_start_fails_closed(
    run: Resolve, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", cannot_start)
    outcome = await run(lambda r: True, make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert isinstance(outcome.error, RuntimeError)
    monkeypatch.undo()
    assert (await run(lambda r: True, make_request(clock))).approved  # and the slot was given back


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "5", 86_401])
async def test_invalid_timeout_is_rejected(run: Resolve, clock: ManualClock, timeout: Any) -> None:
    with pytest.raises(PolicyError):
        await run(lambda r: True, make_request(clock), timeout=timeout)


async def test_non_request_is_rejected(run: Resolve) -> None:
    with pytest.raises(PolicyError):
        await run(lambda r: True, {"tool": "send_email"})


@pytest.mark.parametrize("approver", ["", 42, "x" * 257], ids=repr)
async def test_invalid_approver_is_rejected(run: Resolve, clock: ManualClock, approver: Any) -> None:
    with pytest.raises(PolicyError):
        await run(lambda r: True, make_request(clock), approver=approver)


# ---------------------------------------------------------------------------- request and response values


def test_request_carries_what_the_approver_needs(clock: ManualClock) -> None:
    request = make_request(clock, timeout=30)
    assert request.tool == "send_email"
    assert dict(request.arguments) == {"to": "[REDACTED:EMAIL]", "subject": "Q3"}
    assert request.chain == CHAIN
    assert request.delegation_id == "grant-1"
    assert request.reasons == ("tools.risk.external_communication",)
    assert request.deadline - request.created_at == timedelta(seconds=30)
    assert len(request.id) >= 20
    assert request.id != make_request(clock).id


def test_request_arguments_are_a_read_only_copy_and_not_in_repr(clock: ManualClock) -> None:
    args = {"to": "[REDACTED:EMAIL]", "token": "still-sensitive"}
    request = ApprovalRequest.create("send_email", args, timeout=5, clock=clock)
    args["to"] = "attacker@example.com"
    assert request.arguments["to"] == "[REDACTED:EMAIL]"
    with pytest.raises(TypeError):
        request.arguments["to"] = "x"  # type: ignore[index]
    assert "still-sensitive" not in repr(request)
    assert hash(request) == hash(request)


@pytest.mark.parametrize(
    "change",
    [
        {"tool": ""},
        {"tool": "x" * 257},
        {"tool": 3},
        {"chain": "user:alice"},
        {"chain": ("user:alice", 3)},
        {"chain": ("a",) * 65},
        {"reasons": ["x"] * 65},
        {"delegation_id": ""},
        {"risk": None},
        {"arguments": ["to"]},
        {"arguments": {1: "x"}},
        {"arguments": {f"k{i}": i for i in range(257)}},
        {"created_at": datetime(2026, 1, 1)},  # naive on purpose
        {"deadline": T0 - timedelta(seconds=1)},
        {"id": ""},
    ],
    ids=repr,
)
def test_malformed_request_is_rejected(clock: ManualClock, change: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "id": "r1",
        "tool": "send_email",
        "arguments": {},
        "chain": CHAIN,
        "delegation_id": None,
        "risk": "write",
        "reasons": (),
        "created_at": T0,
        "deadline": T0 + timedelta(seconds=5),
    }
    ApprovalRequest(**fields)  # the baseline is valid
    with pytest.raises(PolicyError):
        ApprovalRequest(**(fields | change))


@pytest.mark.parametrize(
    "args",
    [(1, "bob", None, T0), (True, "", None, T0), (True, "bob", "x" * 1001, T0), (True, "bob", None, "now")],
    ids=repr,
)
def test_malformed_response_is_rejected(args: tuple[Any, ...]) -> None:
    with pytest.raises(PolicyError):
        ApprovalResponse(*args)


# ---------------------------------------------------------------------------- console


@pytest.mark.parametrize(
    ("typed", "approved", "reason"),
    [
        ("y\n", True, None),
        ("YES\n", True, None),
        ("  yes  \n", True, None),
        ("n\n", False, None),
        ("no\n", False, None),
        ("\n", False, "unrecognised answer"),
        ("yep\n", False, "unrecognised answer"),
        ("y es\n", False, "unrecognised answer"),
        ("ja\n", False, "unrecognised answer"),
        ("", False, "no answer (end of input)"),
    ],
)
def test_console_approves_only_an_explicit_yes(
    clock: ManualClock, typed: str, approved: bool, reason: str | None
) -> None:
    out = io.StringIO()
    console = ConsoleApprover(input=io.StringIO(typed), output=out, approver="alice", clock=clock)
    response = console(make_request(clock))
    assert (response.approved, response.approver, response.reason) == (approved, "alice", reason)
    assert out.getvalue().endswith("Approve? [y/N] " + ("approved\n" if approved else "denied\n"))


def test_console_shows_tool_chain_reasons_and_redacted_arguments(clock: ManualClock) -> None:
    out = io.StringIO()
    ConsoleApprover(input=io.StringIO("n\n"), output=out, clock=clock)(make_request(clock))
    shown = out.getvalue()
    for expected in (
        "tool:       send_email",
        "risk:       external_communication",
        "chain:      user:alice -> agent:planner -> agent:mailer",
        "delegation: grant-1",
        "reasons:    tools.risk.external_communication",
        "to = '[REDACTED:EMAIL]'",
    ):
        assert expected in shown


def test_console_escapes_terminal_control_and_bidi_characters(clock: ManualClock) -> None:
    request = ApprovalRequest.create(
        "send\x1b[8m_email",
        {"to": "bob@corp.example\x1b[2K\x1b[1A\rattacker@evil.example", "file\u202e": "report\u202efdp.exe"},
        chain=("user:alice\x07",),
        reasons=("a\u200bb",),
        timeout=30,
        clock=clock,
    )
    out = io.StringIO()
    ConsoleApprover(input=io.StringIO("n\n"), output=out, clock=clock)(request)
    shown = out.getvalue()
    assert not any(ch in shown for ch in "\x1b\r\x07\u202e\u200b")
    assert "\\x1b" in shown
    assert "\\u202e" in shown


def test_console_output_is_bounded(clock: ManualClock) -> None:
    args = {f"arg{i}": "v" * 100_000 for i in range(200)} | {"nested": [[["x" * 10_000] * 100] * 100]}
    request = ApprovalRequest.create("bulk", args, timeout=30, clock=clock)
    out = io.StringIO()
    ConsoleApprover(input=io.StringIO("n\n"), output=out, clock=clock, max_value_chars=50)(request)
    assert len(out.getvalue()) < 20_000
    assert "... and 137 more" in out.getvalue()


def test_console_answer_after_the_deadline_is_a_no(clock: ManualClock) -> None:
    request = make_request(clock, timeout=5)

    class SlowReader(io.StringIO):
        def readline(self, size: int | None = -1) -> str:  # type: ignore[override]  # typeshed: IOBase says bytes
            clock.advance(6)  # the human took too long
            return "y\n"

    response = ConsoleApprover(input=SlowReader(), output=io.StringIO(), clock=clock)(request)
    assert not response.approved
    assert response.reason == "answered after the deadline"


def test_console_reads_a_bounded_line(clock: ManualClock) -> None:
    response = ConsoleApprover(input=io.StringIO("y" * 10_000 + "\n"), output=io.StringIO(), clock=clock)(
        make_request(clock)
    )
    assert not response.approved


def test_console_defaults_to_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ConsoleApprover().approver == getpass.getuser()

    def no_login_name() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_login_name)
    assert ConsoleApprover().approver == "console"


@pytest.mark.parametrize("kwargs", [{"approver": ""}, {"max_value_chars": 0}, {"max_value_chars": True}], ids=repr)
def test_console_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        ConsoleApprover(**kwargs)


async def test_console_under_resolve(run: Resolve, clock: ManualClock) -> None:
    console = ConsoleApprover(input=io.StringIO("yes\n"), output=io.StringIO(), approver="alice", clock=clock)
    outcome = await run(console, make_request(clock))
    assert outcome.approved
    assert outcome.approver == "alice"


# ---------------------------------------------------------------------------- queue


class SignallingStore(InMemoryApprovalStore):
    """An in-memory store that tells the test when a request arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.submitted = threading.Event()

    def submit(self, request: ApprovalRequest) -> None:
        super().submit(request)
        self.submitted.set()


def test_queue_answered_from_another_thread(clock: ManualClock) -> None:
    store = SignallingStore(clock=clock)
    queue = QueueApprover(store, clock=clock)
    request = make_request(clock)

    def reviewer() -> None:
        assert store.submitted.wait(5)
        [pending] = queue.pending()
        assert pending.id == request.id
        assert pending.chain == CHAIN
        queue.answer(pending.id, True, "bob", reason="expected mail")

    thread = threading.Thread(target=reviewer)
    thread.start()
    outcome = resolve(queue, request, timeout=5, clock=clock)
    thread.join(5)
    assert outcome.approved
    assert (outcome.approver, outcome.reason) == ("bob", "expected mail")
    assert queue.pending() == []


async def test_queue_answered_from_another_task_without_a_thread(clock: ManualClock) -> None:
    queue = QueueApprover(clock=clock)
    request = make_request(clock)
    threads = threading.active_count()

    async def reviewer() -> None:
        while not queue.pending():
            await asyncio.sleep(0)
        assert threading.active_count() <= threads  # aresolve awaits the queue on this loop: no new thread
        queue.answer(request.id, False, "carol", reason="unknown recipient")

    outcome, _ = await asyncio.gather(aresolve(queue, request, timeout=5, clock=clock), reviewer())
    assert outcome.status is ApprovalStatus.DENIED
    assert (outcome.approver, outcome.reason) == ("carol", "unknown recipient")


async def test_queue_answered_from_a_thread_while_awaited(clock: ManualClock) -> None:
    store = SignallingStore(clock=clock)
    queue = QueueApprover(store, clock=clock)
    request = make_request(clock)

    def reviewer() -> None:
        assert store.submitted.wait(5)
        queue.answer(request.id, True, "bob")

    thread = threading.Thread(target=reviewer)
    thread.start()
    outcome = await aresolve(queue, request, timeout=5, clock=clock)
    thread.join(5)
    assert outcome.approved


async def test_queue_timeout_withdraws_the_request_so_late_answers_fail(run: Resolve, clock: ManualClock) -> None:
    queue = QueueApprover(clock=clock)
    request = make_request(clock, timeout=TINY)
    outcome = await run(queue, request)
    assert outcome.status is ApprovalStatus.TIMEOUT
    assert queue.store.wait_answer(request.id, 2) is None  # the handler's own wait has ended too
    assert queue.pending() == []
    with pytest.raises(UnknownApprovalError):
        queue.answer(request.id, True, "bob")


def test_answering_an_unknown_request_fails() -> None:
    with pytest.raises(UnknownApprovalError):
        QueueApprover().answer("no-such-id", True, "bob")


def test_answering_an_expired_request_fails(clock: ManualClock) -> None:
    store = InMemoryApprovalStore(clock=clock)
    request = make_request(clock, timeout=30)
    store.submit(request)
    clock.advance(30)
    with pytest.raises(UnknownApprovalError):
        store.answer(request.id, ApprovalResponse(True, "bob", None, clock()))
    assert store.pending() == []
    assert store.wait_answer(request.id, 0) is None  # closed: the waiter learns at once


def test_a_second_answer_is_rejected_and_the_first_stands(clock: ManualClock) -> None:
    queue = QueueApprover(clock=clock)
    request = make_request(clock)
    queue.store.submit(request)
    queue.answer(request.id, False, "bob")
    with pytest.raises(AlreadyAnsweredError):
        queue.answer(request.id, True, "mallory")  # before the requester took the answer
    assert queue.store.wait_answer(request.id, 1) == ApprovalResponse(False, "bob", None, T0)
    with pytest.raises(AlreadyAnsweredError):
        queue.answer(request.id, True, "mallory")  # and after


async def test_an_expired_request_wakes_its_async_waiter(clock: ManualClock) -> None:
    queue = QueueApprover(clock=clock)
    request = make_request(clock, timeout=30)
    task = asyncio.create_task(aresolve(queue, request, timeout=10, clock=clock))
    while not queue.pending():
        await asyncio.sleep(0)
    clock.advance(31)  # the fake deadline passes, so the store expires it ...
    assert queue.pending() == []
    outcome = await asyncio.wait_for(task, 5)  # ... and the waiter learns at once, long before 10 s
    assert outcome.status is ApprovalStatus.TIMEOUT


async def test_an_answer_given_before_the_wait_is_taken_at_once(clock: ManualClock) -> None:
    store = InMemoryApprovalStore(clock=clock)
    request = make_request(clock)
    store.submit(request)
    store.answer(request.id, ApprovalResponse(True, "bob", None, T0))
    assert await store.await_answer(request.id, 0) == ApprovalResponse(True, "bob", None, T0)


async def test_an_answer_withdrawn_before_the_waiter_runs_is_not_delivered(clock: ManualClock) -> None:
    store = InMemoryApprovalStore(clock=clock)
    request = make_request(clock)
    store.submit(request)
    waiter = asyncio.create_task(store.await_answer(request.id, 5))
    await asyncio.sleep(0)  # the waiter is registered
    store.answer(request.id, ApprovalResponse(True, "bob", None, T0))
    store.withdraw(request.id)  # wakes the already-woken waiter again: harmless
    assert await waiter is None
    store.withdraw("never-submitted")  # withdrawing an unknown id is a no-op


def test_pending_is_oldest_first_and_drops_expired(clock: ManualClock) -> None:
    queue = QueueApprover(clock=clock)
    first = make_request(clock, timeout=100)
    clock.advance(1)
    short = make_request(clock, timeout=5)
    clock.advance(1)
    last = make_request(clock, timeout=100)
    for request in (last, short, first):
        queue.store.submit(request)
    assert [r.id for r in queue.pending()] == [first.id, short.id, last.id]
    clock.advance(10)
    assert [r.id for r in queue.pending()] == [first.id, last.id]


async def test_a_full_queue_fails_closed(run: Resolve, clock: ManualClock) -> None:
    queue = QueueApprover(InMemoryApprovalStore(clock=clock, max_pending=1), clock=clock)
    queue.store.submit(make_request(clock))
    outcome = await run(queue, make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert isinstance(outcome.error, ApprovalError)


def test_a_request_id_cannot_be_submitted_twice(clock: ManualClock) -> None:
    store = InMemoryApprovalStore(clock=clock)
    request = make_request(clock)
    store.submit(request)
    with pytest.raises(ApprovalError):
        store.submit(request)


def test_closed_ids_are_remembered_within_a_bound(clock: ManualClock) -> None:
    store = InMemoryApprovalStore(clock=clock, max_closed=2)
    requests = [make_request(clock) for _ in range(3)]
    for request in requests:
        store.submit(request)
        store.withdraw(request.id)
    assert store.wait_answer(requests[2].id, 0) is None
    with pytest.raises(UnknownApprovalError):
        store.wait_answer(requests[0].id, 0)  # forgotten: the memory stays bounded


@pytest.mark.parametrize(
    "answer", [("r", 1, "bob"), ("r", True, ""), ("r", True, "bob", 42), (None, True, "bob")], ids=repr
)
def test_answer_with_wrong_types_is_rejected(answer: tuple[Any, ...]) -> None:
    with pytest.raises((PolicyError, UnknownApprovalError)):
        QueueApprover().answer(*answer)


@pytest.mark.parametrize("kwargs", [{"max_pending": 0}, {"max_closed": True}, {"max_pending": 10**7}], ids=repr)
def test_store_rejects_bad_bounds(kwargs: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        InMemoryApprovalStore(**kwargs)


def test_store_rejects_non_values() -> None:
    store = InMemoryApprovalStore()
    with pytest.raises(PolicyError):
        store.submit("request")  # type: ignore[arg-type]
    with pytest.raises(PolicyError):
        store.answer("r", True)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- retries


class Flaky:
    """Fails with ``errors`` in turn, then answers; counts the calls."""

    def __init__(self, *errors: BaseException, answer: Any = True) -> None:
        self.errors = list(errors)
        self.answer = answer
        self.calls = 0

    def __call__(self, request: ApprovalRequest) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.answer


class AsyncFlaky(Flaky):
    async def __call__(self, request: ApprovalRequest) -> Any:
        return super().__call__(request)


class FakeSleep:
    """Sleeps by advancing the fake clock; records every wait."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self(seconds)


@pytest.fixture(params=[Flaky, AsyncFlaky], ids=["sync_remote", "async_remote"])
def flaky(request: pytest.FixtureRequest) -> type[Flaky]:
    return request.param  # type: ignore[no-any-return]


def retried(handler: Any, clock: ManualClock, sleep: FakeSleep, **kwargs: Any) -> Any:
    return retrying(handler, clock=clock, sleep=sleep, asleep=sleep.asleep, **kwargs)


async def test_transient_failures_then_success(run: Resolve, clock: ManualClock, flaky: type[Flaky]) -> None:
    sleep = FakeSleep(clock)
    remote = flaky(ConnectionError("reset"), TimeoutError("slow"))
    outcome = await run(retried(remote, clock, sleep, attempts=3), make_request(clock))
    assert outcome.approved
    assert remote.calls == 3
    assert len(sleep.waits) == 2
    assert all(0 <= w <= 5 for w in sleep.waits)
    assert outcome.approver is not None
    assert flaky.__name__ in outcome.approver


async def test_transient_failures_until_the_deadline_deny(run: Resolve, clock: ManualClock, flaky: type[Flaky]) -> None:
    sleep = FakeSleep(clock)
    remote = flaky(*[ConnectionError("down")] * 10_000)
    request = make_request(clock, timeout=20)
    outcome = await run(retried(remote, clock, sleep, attempts=100, max_seconds=3600), request)
    assert outcome.status is ApprovalStatus.ERROR
    assert isinstance(outcome.error, ConnectionError)
    assert clock() < request.deadline  # never slept past the deadline
    assert 1 < remote.calls < 100


async def test_retries_stop_after_max_seconds(run: Resolve, clock: ManualClock, flaky: type[Flaky]) -> None:
    sleep = FakeSleep(clock)
    remote = flaky(*[OSError("unreachable")] * 10_000)
    await run(retried(remote, clock, sleep, attempts=100, max_seconds=2), make_request(clock, timeout=600))
    assert sum(sleep.waits) < 2


async def test_retries_stop_after_the_attempts(run: Resolve, clock: ManualClock, flaky: type[Flaky]) -> None:
    sleep = FakeSleep(clock)
    remote = flaky(*[ConnectionError("down")] * 10)
    outcome = await run(retried(remote, clock, sleep, attempts=3), make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert remote.calls == 3


@pytest.mark.parametrize(
    "error", [ValueError("bad request"), PermissionError("forbidden"), ApprovalTimeoutError("none")], ids=repr
)
async def test_non_transient_failures_are_not_retried(
    run: Resolve, clock: ManualClock, flaky: type[Flaky], error: Exception
) -> None:
    sleep = FakeSleep(clock)
    remote = flaky(error)
    retry_on = (ConnectionError, TimeoutError)  # PermissionError is an OSError: leave it out
    outcome = await run(retried(remote, clock, sleep, retry_on=retry_on), make_request(clock))
    assert remote.calls == 1
    assert sleep.waits == []
    assert outcome.status in (ApprovalStatus.ERROR, ApprovalStatus.TIMEOUT)
    assert not outcome.approved


async def test_malformed_answers_are_not_retried(run: Resolve, clock: ManualClock, flaky: type[Flaky]) -> None:
    remote = flaky(answer="yes")
    outcome = await run(retried(remote, clock, FakeSleep(clock)), make_request(clock))
    assert outcome.status is ApprovalStatus.ERROR
    assert remote.calls == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"max_seconds": 0},
        {"retry_on": ValueError},
        {"retry_on": (KeyboardInterrupt,)},
    ],
    ids=repr,
)
def test_retrying_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        retrying(lambda r: True, **kwargs)


def test_retrying_rejects_a_non_callable() -> None:
    with pytest.raises(PolicyError):
        retrying("https://approvals.example")  # type: ignore[arg-type]


async def test_async_remote_called_synchronously_inside_a_loop_fails_closed(clock: ManualClock) -> None:
    wrapped = retrying(AsyncFlaky(), clock=clock)
    with pytest.raises(ApprovalError):
        wrapped(make_request(clock))  # misuse: async code must go through aresolve


async def test_retrying_aask_of_a_sync_remote_stops_at_the_deadline(
    clock: ManualClock, release: threading.Event
) -> None:
    wrapped = retrying(lambda r: release.wait(10), clock=clock)
    with pytest.raises(ApprovalTimeoutError):
        await wrapped.aask(make_request(clock, timeout=TINY))


async def test_retrying_aask_of_a_sync_remote_reraises_its_error(clock: ManualClock) -> None:
    wrapped = retried(Flaky(ValueError("bad")), clock, FakeSleep(clock))
    with pytest.raises(ValueError, match="bad"):
        await wrapped.aask(make_request(clock))


class Pending:
    """An awaitable that is not a coroutine."""

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return True


async def test_any_awaitable_answer_is_awaited(run: Resolve, clock: ManualClock) -> None:
    outcome = await run(lambda r: Pending(), make_request(clock))
    assert outcome.approved
    with pytest.raises(ApprovalError):
        retrying(lambda r: Pending(), clock=clock)(make_request(clock))  # sync call inside a loop: refused
