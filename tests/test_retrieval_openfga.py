"""OpenFGAAuthorizer against a fake transport that speaks OpenFGA's BatchCheck JSON (no server, no network).

`FakeOpenFGA` is NOT an OpenFGA server: it is an ``httpx.MockTransport`` handler that answers
``POST /stores/{store_id}/batch-check`` the way OpenFGA 1.8+ does (request and response shapes
from openfga/api ``openfga_service.proto`` and the server's ``batch_check`` command), over a
plain set of tuples with the type-bound public wildcard (``user:*``) and nothing else of
OpenFGA's modelling language. Tests needing httpx skip when the ``openfga`` extra is missing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aispm
from aispm.errors import AispmError, MissingExtraError, PolicyError
from aispm.principals import current_session
from aispm.retrieval import Access, DocumentAuthorizer, DocumentRef, Principal, access_for
from aispm.retrieval.openfga import OpenFGAAuthorizer, OpenFGAError

STORE = "01HVMMBCMGZNT3SED4Z17ECXCA"
MODEL = "01HVMMBFX5N6TQ3J0VKMQ8W5YB"
URL = "http://fga.test"
TOKEN = "s3cr3t-token"

ALICE = Principal("user", "alice", frozenset({"eng"}))
BOB = Principal("user", "bob")
BOT = Principal("agent", "support-bot", frozenset())
ANONYMOUS = Principal("anonymous", None)

_CORRELATION = re.compile(r"[\w\d-]{1,36}")
_RELATION = re.compile(r"[^:#@\s]{1,50}")
_OBJECT = re.compile(r"[^:#@\s]{1,254}:[^#:\s]{1,256}")
_USER = re.compile(r"[^:#@\s]{1,254}:(\*|[^#:\s]{1,256})")


class FakeOpenFGA:
    """A fake transport, not a server: answers BatchCheck requests from a set of tuples.

    Validates a request as OpenFGA does (no checks or more than ``max_checks``, an empty,
    badly formed or duplicate correlation id, a malformed tuple key: HTTP 400
    ``validation_error``; an unknown model: 400; a missing or wrong bearer token when ``token``
    is set: 401) and answers ``{"result": {"<correlation id>": {"allowed": bool}}}``, or
    ``{"error": {"input_error": ..., "message": ...}}`` for the tuple keys in ``errors``.
    Every request is recorded in ``requests`` as ``(headers, body)``.
    """

    def __init__(
        self,
        tuples: Iterable[tuple[str, str, str]] = (),
        *,
        max_checks: int = 50,
        token: str | None = None,
        errors: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        self.tuples = set(tuples)
        self.max_checks = max_checks
        self.token = token
        self.errors = set(errors)
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.respond: Callable[[Any], Any] | None = None  # overrides the answer (malformed replies)

    def allowed(self, user: str, relation: str, obj: str) -> bool:
        wildcard = user.split(":", 1)[0] + ":*"
        return (user, relation, obj) in self.tuples or (wildcard, relation, obj) in self.tuples

    def __call__(self, request: Any) -> Any:
        import httpx

        if request.method != "POST" or request.url.path != f"/stores/{STORE}/batch-check":
            return httpx.Response(404, json={"code": "undefined_endpoint", "message": "Not Found"})
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"code": "unauthenticated", "message": "unauthenticated"})
        body = json.loads(request.content)
        self.requests.append((headers, body))
        if body.get("authorization_model_id", MODEL) != MODEL:
            return _invalid("authorization_model_not_found", "the authorization model was not found")
        checks = body.get("checks")
        if not isinstance(checks, list) or not checks:
            return _invalid("validation_error", "batch check requires at least one check to evaluate")
        if len(checks) > self.max_checks:
            return _invalid(
                "validation_error",
                f"batchCheck received {len(checks)} checks, the maximum allowed is {self.max_checks}",
            )
        result: dict[str, Any] = {}
        for check in checks:
            cid = check.get("correlation_id")
            if not isinstance(cid, str) or not _CORRELATION.fullmatch(cid) or cid in result:
                return _invalid("validation_error", f"invalid or duplicate correlation id: {cid}")
            key = check.get("tuple_key", {})
            user, relation, obj = key.get("user"), key.get("relation"), key.get("object")
            valid = [(user, _USER), (relation, _RELATION), (obj, _OBJECT)]
            if not all(isinstance(value, str) and pattern.fullmatch(value) for value, pattern in valid):
                return _invalid("validation_error", f"invalid tuple key {key}")
            if (user, relation, obj) in self.errors:
                result[cid] = {"error": {"input_error": "validation_error", "message": f"type not found {obj}"}}
            else:
                result[cid] = {"allowed": self.allowed(user, relation, obj)}
        answer: Any = {"result": result}
        if self.respond is not None:
            answer = self.respond(answer)
            if isinstance(answer, httpx.Response):
                return answer
        return httpx.Response(200, json=answer)

    def checks(self) -> list[tuple[str, str]]:
        """Every (user, object) asked so far, in order."""
        return [(c["tuple_key"]["user"], c["tuple_key"]["object"]) for _, body in self.requests for c in body["checks"]]


def _invalid(code: str, message: str) -> Any:
    import httpx

    return httpx.Response(400, json={"code": code, "message": message})


def access(*subjects: Principal) -> Access:
    return Access(subjects=subjects, chain=(), clearance="public", labels=frozenset({"public"}))


def refs(*ids: str) -> list[DocumentRef]:
    return [DocumentRef(i, None) for i in ids]


@pytest.fixture
def fga() -> FakeOpenFGA:
    pytest.importorskip("httpx")
    return FakeOpenFGA(
        {
            ("user:alice", "viewer", "document:a"),
            ("user:alice", "viewer", "document:b"),
            ("user:bob", "viewer", "document:b"),
            ("agent:support-bot", "viewer", "document:a"),
            ("user:*", "viewer", "document:public"),
            ("user:alice", "editor", "document:c"),
        }
    )


def make(fake: FakeOpenFGA, **kwargs: Any) -> OpenFGAAuthorizer:
    import httpx

    transport = httpx.MockTransport(fake)
    return OpenFGAAuthorizer(
        URL,
        STORE,
        client=httpx.Client(transport=transport),
        async_client=httpx.AsyncClient(transport=transport),
        **kwargs,
    )


Authorize = Callable[[OpenFGAAuthorizer, Access, Sequence[DocumentRef]], list[str | None]]


def _sync(authorizer: OpenFGAAuthorizer, chain: Access, docs: Sequence[DocumentRef]) -> list[str | None]:
    return authorizer.authorize(chain, docs)


def _async(authorizer: OpenFGAAuthorizer, chain: Access, docs: Sequence[DocumentRef]) -> list[str | None]:
    return asyncio.run(authorizer.aauthorize(chain, docs))


both = pytest.mark.parametrize("run", [_sync, _async], ids=["sync", "async"])

NO = "retrieval.not_authorized"


@both
def test_each_user_reads_only_what_openfga_allows(run: Authorize, fga: FakeOpenFGA) -> None:
    authorizer = make(fga)
    docs = refs("a", "b", "c", "public")
    assert run(authorizer, access(ALICE), docs) == [None, None, NO, None]  # c: editor, not viewer
    assert run(authorizer, access(BOB), docs) == [NO, None, NO, None]
    assert isinstance(authorizer, DocumentAuthorizer)


@both
def test_the_subjects_come_from_the_session_chain(run: Authorize, fga: FakeOpenFGA) -> None:
    # An agent is an ACL subject when the policy gives it groups (an empty list will do).
    guard = aispm.Guard({"retrieval": {"agents": {"support-bot": {"groups": []}, "summariser": {}}}})
    with guard.session(user="alice", agent="support-bot"), guard.session(agent="summariser"):
        chain = access_for(current_session(), guard.policy.retrieval)
    assert run(make(fga), chain, refs("a", "b")) == [None, NO]
    assert {user for user, _ in fga.checks()} == {"user:alice", "agent:support-bot"}


@both
def test_an_agent_in_the_chain_must_be_allowed_too(run: Authorize, fga: FakeOpenFGA) -> None:
    # a: alice and the bot; b: alice only; public: the wildcard covers users, not agents.
    assert run(make(fga), access(ALICE, BOT), refs("a", "b", "public")) == [None, NO, NO]
    assert fga.checks() == [
        ("user:alice", "document:a"),
        ("agent:support-bot", "document:a"),
        ("user:alice", "document:b"),
        ("agent:support-bot", "document:b"),
        ("user:alice", "document:public"),
        ("agent:support-bot", "document:public"),
    ]


@both
def test_the_anonymous_principal_is_the_public_wildcard(run: Authorize, fga: FakeOpenFGA) -> None:
    assert run(make(fga), access(ANONYMOUS), refs("a", "public")) == [NO, None]
    assert fga.checks() == [("user:*", "document:a"), ("user:*", "document:public")]


@both
def test_types_and_relation_are_configurable(run: Authorize, fga: FakeOpenFGA) -> None:
    fga.tuples |= {("person:alice", "reader", "file:x"), ("bot:support-bot", "reader", "file:x")}
    authorizer = make(fga, relation="reader", object_type="file", user_type="person", agent_type="bot")
    assert run(authorizer, access(ALICE, BOT), refs("x", "a")) == [None, NO]
    assert run(make(fga, relation="editor"), access(ALICE), refs("c", "a")) == [None, NO]


@both
@pytest.mark.parametrize(("count", "sizes"), [(120, [50, 50, 20]), (50, [50]), (51, [50, 1])])
def test_checks_are_chunked_into_batches_of_max_checks(
    run: Authorize, fga: FakeOpenFGA, count: int, sizes: list[int]
) -> None:
    fga.tuples |= {("user:alice", "viewer", f"document:d{i}") for i in range(0, count, 2)}
    verdicts = run(make(fga), access(ALICE), refs(*(f"d{i}" for i in range(count))))
    assert verdicts == [None if i % 2 == 0 else NO for i in range(count)]
    assert sorted((len(body["checks"]) for _, body in fga.requests), reverse=True) == sizes
    for _, body in fga.requests:  # correlation ids: short, unique in their batch
        assert [c["correlation_id"] for c in body["checks"]] == [str(i) for i in range(len(body["checks"]))]


@both
def test_a_smaller_max_checks_spreads_subjects_over_batches(run: Authorize, fga: FakeOpenFGA) -> None:
    fga.max_checks = 3
    assert run(make(fga, max_checks=3), access(ALICE, BOT), refs("a", "b", "public")) == [None, NO, NO]
    assert [len(body["checks"]) for _, body in fga.requests] == [3, 3]


@both
def test_documents_without_a_valid_id_are_decided_without_asking(run: Authorize, fga: FakeOpenFGA) -> None:
    docs = refs("", "a", "x:y", "has space", "with#hash", "*", "z" * 248, "z" * 247)
    verdicts = run(make(fga), access(ALICE), docs)
    missing, malformed = "retrieval.missing_metadata", "retrieval.malformed_metadata"
    assert verdicts == [missing, None, malformed, malformed, malformed, malformed, malformed, NO]
    assert fga.checks() == [("user:alice", "document:a"), ("user:alice", "document:" + "z" * 247)]


@both
def test_no_request_when_nothing_needs_asking(run: Authorize, fga: FakeOpenFGA) -> None:
    authorizer = make(fga)
    assert run(authorizer, access(ALICE), []) == []
    assert run(authorizer, access(ALICE), refs("", "")) == ["retrieval.missing_metadata"] * 2
    assert fga.requests == []


@both
def test_a_document_retrieved_twice_is_checked_once(run: Authorize, fga: FakeOpenFGA) -> None:
    assert run(make(fga), access(ALICE), refs("a", "c", "a")) == [None, NO, None]
    assert fga.checks() == [("user:alice", "document:a"), ("user:alice", "document:c")]


@both
@pytest.mark.parametrize(
    "subjects",
    [
        (Principal("user", "eve:admin"),),
        (Principal("user", "eve#member"),),
        (Principal("user", "two words"),),
        (Principal("user", "*"),),
        (Principal("user", None),),
        (Principal("user", "e" * 600),),
        (ALICE, Principal("agent", "bad:agent")),
        (),
    ],
    ids=["colon", "hash", "space", "wildcard-name", "no-name", "too-long", "bad-agent", "no-subjects"],
)
def test_a_subject_openfga_cannot_name_denies_everything(
    run: Authorize, fga: FakeOpenFGA, subjects: tuple[Principal, ...]
) -> None:
    assert run(make(fga), access(*subjects), refs("a", "public", "")) == [NO, NO, "retrieval.missing_metadata"]
    assert fga.requests == []


@both
def test_a_check_answered_with_an_error_is_not_admitted(
    run: Authorize, fga: FakeOpenFGA, caplog: pytest.LogCaptureFixture
) -> None:
    fga.errors = {("agent:support-bot", "viewer", "document:a")}
    with caplog.at_level(logging.WARNING, logger="aispm"):
        assert run(make(fga), access(ALICE, BOT), refs("a", "b")) == [NO, NO]
    [record] = caplog.records
    assert record.getMessage() == "OpenFGA answered 1 of 4 checks with an error (validation_error x1): not admitted"


def _odd_answers(answer: Any) -> Any:
    result = answer["result"]
    result["0"] = {"error": {"internal_error": "deadline_exceeded", "message": "context deadline exceeded"}}
    result["1"] = {"error": {"message": "free text about document:secret-42"}}
    result["2"] = {"allowed": True, "error": {"input_error": "validation_error"}}
    result["3"] = {}  # protojson may leave out a false value
    return answer


@both
def test_errors_and_absent_answers_are_denials(
    run: Authorize, fga: FakeOpenFGA, caplog: pytest.LogCaptureFixture
) -> None:
    fga.tuples |= {("user:alice", "viewer", f"document:{d}") for d in ("secret-42", "c", "public")}
    fga.respond = _odd_answers
    with caplog.at_level(logging.WARNING, logger="aispm"):
        assert run(make(fga), access(ALICE), refs("a", "secret-42", "c", "public", "b")) == [NO, NO, NO, NO, None]
    [record] = caplog.records
    message = record.getMessage()
    assert message == (
        "OpenFGA answered 3 of 5 checks with an error (deadline_exceeded x1, unknown x1, validation_error x1): "
        "not admitted"
    )


@both
def test_a_subject_twice_in_the_chain_is_checked_once(run: Authorize, fga: FakeOpenFGA) -> None:
    assert run(make(fga), access(ALICE, ALICE), refs("a")) == [None]
    assert fga.checks() == [("user:alice", "document:a")]


@both
def test_the_request_carries_the_token_and_the_model(run: Authorize, fga: FakeOpenFGA) -> None:
    fga.token = TOKEN
    authorizer = make(fga, api_token=TOKEN, authorization_model_id=MODEL)
    assert run(authorizer, access(ALICE), refs("a")) == [None]
    [(headers, body)] = fga.requests
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert body == {
        "checks": [
            {"tuple_key": {"user": "user:alice", "relation": "viewer", "object": "document:a"}, "correlation_id": "0"}
        ],
        "authorization_model_id": MODEL,
    }
    assert TOKEN not in repr(authorizer)


@both
def test_without_a_token_or_model_neither_is_sent(run: Authorize, fga: FakeOpenFGA) -> None:
    run(make(fga), access(ALICE), refs("a"))
    [(headers, body)] = fga.requests
    assert "authorization" not in headers
    assert set(body) == {"checks"}


def _reply(status: int, payload: Any = None, *, content: bytes | None = None) -> Callable[[Any], Any]:
    def respond(answer: Any) -> Any:
        import httpx

        if content is not None:
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=payload(answer) if callable(payload) else payload)

    return respond


def _drop_one(answer: Any) -> Any:
    answer["result"].pop("1")
    return answer


def _rename_one(answer: Any) -> Any:
    answer["result"]["x"] = answer["result"].pop("1")
    return answer


def _extra(answer: Any) -> Any:
    answer["result"]["99"] = {"allowed": True}
    return answer


def _string_allowed(answer: Any) -> Any:
    answer["result"]["0"] = {"allowed": "true"}
    return answer


def _not_an_object(answer: Any) -> Any:
    answer["result"]["0"] = True
    return answer


FAILURES = {
    "http-500": (_reply(500, {"code": "internal_error", "message": "document:secret-42 exploded"}), "HTTP 500"),
    "http-400": (_reply(400, {"code": "validation_error", "message": "invalid tuple document:secret-42"}), "HTTP 400"),
    "http-429-text": (_reply(429, content=b"slow down document:secret-42"), "HTTP 429"),
    "http-502-list": (_reply(502, ["document:secret-42"]), "HTTP 502"),
    "not-json": (_reply(200, content=b"<html>document:secret-42</html>"), "invalid JSON"),
    "not-an-object": (_reply(200, ["document:secret-42"]), "no results"),
    "no-result": (_reply(200, {}), "no results"),
    "missing-id": (_drop_one, "answered 2 results"),
    "unknown-id": (_rename_one, "without a result"),
    "extra-id": (_extra, "answered 4 results"),
    "string-allowed": (_string_allowed, "non-boolean"),
    "result-not-an-object": (_not_an_object, "without a result"),
}


@both
@pytest.mark.parametrize("failure", list(FAILURES))
def test_an_unusable_answer_raises_without_naming_documents(run: Authorize, fga: FakeOpenFGA, failure: str) -> None:
    respond, expected = FAILURES[failure]
    fga.respond = respond
    with pytest.raises(OpenFGAError, match=expected) as caught:
        run(make(fga), access(ALICE), refs("secret-42", "a", "b"))
    message = str(caught.value)
    assert "secret-42" not in message
    assert "alice" not in message
    assert "a batch of 3 checks" in message
    assert isinstance(caught.value, AispmError)


def test_the_error_code_of_a_failed_request_is_reported(fga: FakeOpenFGA) -> None:
    fga.respond = _reply(500, {"code": "internal_error", "message": "boom"})
    with pytest.raises(OpenFGAError, match=r"^OpenFGA batch check failed \(HTTP 500, internal_error\)"):
        make(fga).authorize(access(ALICE), refs("a"))
    fga.respond = _reply(503, {"code": "Not A Code!", "message": "boom"})
    with pytest.raises(OpenFGAError, match=r"\(HTTP 503\) for a batch of 1 checks$"):
        make(fga).authorize(access(ALICE), refs("a"))


@both
def test_a_wrong_token_is_an_error(run: Authorize, fga: FakeOpenFGA) -> None:
    fga.token = TOKEN
    with pytest.raises(OpenFGAError, match=r"HTTP 401, unauthenticated"):
        run(make(fga, api_token="wrong"), access(ALICE), refs("a"))


@both
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("ReadTimeout", r"timed out after 2s \(a batch of 1 checks\)"),
        ("ConnectTimeout", r"timed out after 2s"),
        ("ConnectError", r"failed: ConnectError \(a batch of 1 checks\)"),
        ("RemoteProtocolError", r"failed: RemoteProtocolError"),
    ],
)
def test_transport_failures_raise_openfga_error(run: Authorize, error: str, expected: str) -> None:
    httpx = pytest.importorskip("httpx")

    def handler(request: Any) -> Any:
        raise getattr(httpx, error)(f"cannot reach {request.url} for document:secret-42", request=request)

    transport = httpx.MockTransport(handler)
    authorizer = OpenFGAAuthorizer(
        URL,
        STORE,
        timeout=2,
        client=httpx.Client(transport=transport),
        async_client=httpx.AsyncClient(transport=transport),
    )
    with pytest.raises(OpenFGAError, match=expected) as caught:
        run(authorizer, access(ALICE), refs("secret-42"))
    assert "secret-42" not in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.HTTPError)


async def test_async_batches_run_concurrently_up_to_the_limit(fga: FakeOpenFGA) -> None:
    httpx = pytest.importorskip("httpx")
    in_flight = peak = 0

    async def handler(request: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)  # yield, so that other batches can start
        await asyncio.sleep(0)
        in_flight -= 1
        return fga(request)

    fga.tuples |= {("user:alice", "viewer", f"document:d{i}") for i in range(0, 100, 3)}
    authorizer = OpenFGAAuthorizer(
        URL,
        STORE,
        max_checks=10,
        max_parallel_requests=3,
        async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    verdicts = await authorizer.aauthorize(access(ALICE), refs(*(f"d{i}" for i in range(100))))
    assert verdicts == [None if i % 3 == 0 else NO for i in range(100)]
    assert len(fga.requests) == 10
    assert peak == 3


async def test_an_async_failure_cancels_the_other_batches(fga: FakeOpenFGA) -> None:
    httpx = pytest.importorskip("httpx")
    started: list[int] = []

    async def handler(request: Any) -> Any:
        body = json.loads(request.content)
        started.append(len(body["checks"]))
        if len(started) == 1:
            return httpx.Response(500, json={"code": "internal_error"})
        await asyncio.sleep(3600)  # never answers: must be cancelled, not awaited
        raise AssertionError("unreachable")

    authorizer = OpenFGAAuthorizer(
        URL, STORE, max_checks=1, async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(OpenFGAError, match="HTTP 500"):
        await asyncio.wait_for(authorizer.aauthorize(access(ALICE), refs("a", "b", "c")), timeout=5)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    grants=st.sets(st.tuples(st.sampled_from(["alice", "bob", "carol", "*"]), st.integers(0, 9))),
    user=st.sampled_from(["alice", "bob", "carol"]),
    agent=st.booleans(),
    ids=st.lists(st.integers(0, 9), max_size=25),
    max_checks=st.integers(1, 7),
)
def test_admitted_iff_every_subject_is_allowed(
    fga: FakeOpenFGA, grants: set[tuple[str, int]], user: str, agent: bool, ids: list[int], max_checks: int
) -> None:
    fake = FakeOpenFGA({(f"user:{u}", "viewer", f"document:{d}") for u, d in grants}, max_checks=max_checks)
    fake.tuples |= {("agent:bot", "viewer", f"document:{d}") for d in range(0, 10, 2)}
    subjects = [Principal("user", user), *([Principal("agent", "bot")] if agent else [])]
    verdicts = make(fake, max_checks=max_checks).authorize(access(*subjects), refs(*map(str, ids)))

    def readable(d: int) -> bool:
        names = [f"user:{user}", *(["agent:bot"] if agent else [])]
        return all(fake.allowed(name, "viewer", f"document:{d}") for name in names)

    assert verdicts == [None if readable(d) else NO for d in ids]
    assert all(len(body["checks"]) <= max_checks for _, body in fake.requests)
    assert len(fake.checks()) == len(set(ids)) * len(subjects)


def test_owned_clients_are_created_lazily_and_closed(fga: FakeOpenFGA) -> None:
    authorizer = OpenFGAAuthorizer(URL, STORE)
    assert authorizer._client is None
    assert authorizer._async_client is None
    client = authorizer._sync_client()
    assert authorizer._sync_client() is client
    authorizer.close()
    assert client.is_closed
    assert authorizer._client is None
    with OpenFGAAuthorizer(URL, STORE) as scoped:
        owned = scoped._sync_client()
    assert owned.is_closed


async def test_owned_async_clients_are_closed_by_aclose(fga: FakeOpenFGA) -> None:
    async with OpenFGAAuthorizer(URL, STORE) as authorizer:
        client = authorizer._async()
        sync_client = authorizer._sync_client()
        assert authorizer._async() is client
    assert client.is_closed
    assert sync_client.is_closed


async def test_passed_clients_are_never_closed(fga: FakeOpenFGA) -> None:
    import httpx

    client, async_client = httpx.Client(), httpx.AsyncClient()
    async with OpenFGAAuthorizer(URL, STORE, client=client, async_client=async_client):
        pass
    assert not client.is_closed
    assert not async_client.is_closed
    client.close()
    await async_client.aclose()


def test_the_url_keeps_a_path_prefix(fga: FakeOpenFGA) -> None:
    assert OpenFGAAuthorizer("https://fga.test/api/", STORE)._url == f"https://fga.test/api/stores/{STORE}/batch-check"
    assert OpenFGAAuthorizer("http://fga.test:8080", STORE)._url == f"http://fga.test:8080/stores/{STORE}/batch-check"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_url": "fga.test"}, "api_url"),
        ({"api_url": "ftp://fga.test"}, "api_url"),
        ({"api_url": "http://fga.test/?x=1"}, "api_url"),
        ({"api_url": "http://"}, "api_url"),
        ({"api_url": 42}, "api_url"),
        ({"store_id": "my-store"}, "store_id"),
        ({"store_id": "../../admin"}, "store_id"),
        ({"authorization_model_id": "latest"}, "authorization_model_id"),
        ({"api_token": ""}, "api_token"),
        ({"relation": "can:view"}, "relation"),
        ({"relation": "r" * 51}, "relation"),
        ({"object_type": "doc ument"}, "object_type"),
        ({"user_type": "user#member"}, "user_type"),
        ({"agent_type": "@agent"}, "agent_type"),
        ({"max_checks": 0}, "max_checks"),
        ({"max_checks": True}, "max_checks"),
        ({"max_parallel_requests": 0}, "max_parallel_requests"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": "5"}, "timeout"),
    ],
)
def test_invalid_arguments_are_policy_errors(fga: FakeOpenFGA, kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"api_url": URL, "store_id": STORE, **kwargs}
    with pytest.raises(PolicyError, match=message):
        OpenFGAAuthorizer(**arguments)


def test_clients_of_the_wrong_kind_are_policy_errors(fga: FakeOpenFGA) -> None:
    import httpx

    with pytest.raises(PolicyError, match="async_client"):
        OpenFGAAuthorizer(URL, STORE, client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="async_client must be"):
        OpenFGAAuthorizer(URL, STORE, async_client=httpx.Client())  # type: ignore[arg-type]


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # import httpx raises ImportError
    with pytest.raises(MissingExtraError, match=r"aispm\[openfga\]") as caught:
        OpenFGAAuthorizer(URL, STORE)
    assert caught.value.extra == "openfga"


def test_importing_the_module_does_not_import_httpx() -> None:
    code = "import sys, aispm, aispm.retrieval.openfga; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - a fixed command line
