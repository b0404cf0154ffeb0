"""OpenFGA as a `DocumentAuthorizer`: relationship-based read checks, batched through OpenFGA's BatchCheck API.

A retrieval asks OpenFGA once per ``max_checks`` checks (one HTTP request per batch of 50 by
default), never once per document: every ACL subject of the chain (``Access.subjects``) is
checked against every retrieved document, and a document is admitted only when all its checks
say ``allowed``. Needs the ``openfga`` extra (httpx) and an OpenFGA server 1.8 or later::

    fga = OpenFGAAuthorizer("https://fga.example.com", "01HVMMBCMGZNT3SED4Z17ECXCA", api_token=token)

The HTTP API is spoken directly through httpx rather than through the openfga-sdk, which
brings two HTTP stacks (aiohttp and urllib3) for one endpoint; see docs/retrieval-openfga.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AispmError, MissingExtraError, PolicyError
from ._access import MALFORMED, MISSING, NOT_AUTHORIZED, Access, DocumentRef

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

__all__ = ["OpenFGAAuthorizer", "OpenFGAError"]

_log = logging.getLogger("aispm")

# OpenFGA's own validation (openfga/api openfga_service.proto, pkg/tuple): store and model ids
# are ULIDs; a type has no ':', '#', '@' or space; an object or user id has no ':', '#' or space.
_ULID = re.compile(r"[0-9ABCDEFGHJKMNPQRSTVWXYZ]{26}")
_TYPE = re.compile(r"[^:#@\s]{1,254}")
_RELATION = re.compile(r"[^:#@\s]{1,50}")
_ID = re.compile(r"[^:#\s]+")
_CODE = re.compile(r"[a-z_]{1,64}")  # OpenFGA error codes: validation_error, internal_error, ...
_OBJECT_MAX = 256
_USER_MAX = 512


class OpenFGAError(AispmError, RuntimeError):
    """OpenFGA did not answer a batch check usably: HTTP error, timeout, unreachable, malformed reply.

    The retrieval filter turns it (like any authorizer error) into a fail-closed decision. The
    message gives the HTTP status, OpenFGA's error code and a count of checks, never a document
    id or a user; the underlying httpx error, if any, is ``__cause__``.
    """


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to ask OpenFGA for one call, and how to turn the answers back into per-document verdicts.

    Check ``k`` is user ``k % len(users)`` on object ``k // len(users)``.
    """

    local: tuple[str | None, ...]  # per document: its verdict when decided without asking, else None
    slots: tuple[int, ...]  # per document: its object's index, -1 when decided locally
    users: tuple[str, ...]
    objects: tuple[str, ...]

    def verdicts(self, allowed: Sequence[bool]) -> list[str | None]:
        width = len(self.users)
        admitted = [all(allowed[o * width : (o + 1) * width]) for o in range(len(self.objects))]
        return [
            rule if slot < 0 else (None if admitted[slot] else NOT_AUTHORIZED)
            for rule, slot in zip(self.local, self.slots, strict=True)
        ]


class OpenFGAAuthorizer:
    """Asks OpenFGA whether the chain may read each retrieved document, in batches.

    Each ACL subject of the `Access` becomes an OpenFGA user: a user ``alice`` is
    ``user:alice``, an agent ``bot`` is ``agent:bot``, and the anonymous principal is
    ``user:*`` (OpenFGA's public wildcard, so it reads only documents shared with everyone).
    Each document with id ``42`` is the object ``document:42``. The authorizer checks
    ``relation`` for every subject on every document and admits a document only when all
    checks say allowed. Verdicts: a document without an id is ``retrieval.missing_metadata``;
    an id OpenFGA cannot hold (``:``, ``#``, whitespace, too long) is
    ``retrieval.malformed_metadata``; everything else not admitted, including a check that
    OpenFGA answered with an error, is ``retrieval.not_authorized``. A subject name OpenFGA
    cannot hold denies every document without a request.

    ``authorize`` sends its batches one after another; ``aauthorize`` sends up to
    ``max_parallel_requests`` at once. Either raises `OpenFGAError` when a batch gets no usable
    answer. Clients you pass are never closed here; the ones the authorizer creates on first use
    are closed by `close` / `aclose` (or by leaving ``with`` / ``async with``).

    Args:
        api_url: The OpenFGA HTTP API root, e.g. ``http://localhost:8080``.
        store_id: The store (a ULID).
        authorization_model_id: Pin the model (recommended by OpenFGA); ``None``: the latest.
        api_token: Sent as ``Authorization: Bearer <token>``; never shown in reprs or errors.
        relation: The relation that means "may read", on ``object_type``.
        object_type: The OpenFGA type of documents.
        user_type: The OpenFGA type of users (and of the ``*`` wildcard).
        agent_type: The OpenFGA type of agents.
        max_checks: Checks per request: the server's ``OPENFGA_MAX_CHECKS_PER_BATCH_CHECK`` (50).
        max_parallel_requests: Concurrent requests of one `aauthorize` call.
        timeout: Seconds per request, applied to passed clients too.
        client: An ``httpx.Client`` to use (tests pass one over ``httpx.MockTransport``).
        async_client: An ``httpx.AsyncClient`` to use.

    Raises:
        MissingExtraError: httpx is not installed (``pip install "aispm[openfga]"``).
        PolicyError: An argument is invalid.
    """

    def __init__(
        self,
        api_url: str,
        store_id: str,
        *,
        authorization_model_id: str | None = None,
        api_token: str | None = None,
        relation: str = "viewer",
        object_type: str = "document",
        user_type: str = "user",
        agent_type: str = "agent",
        max_checks: int = 50,
        max_parallel_requests: int = 10,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
        async_client: httpx.AsyncClient | None = None,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise MissingExtraError("openfga", "httpx", "OpenFGAAuthorizer") from None
        try:
            url = httpx.URL(api_url)
        except (TypeError, httpx.InvalidURL):
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
            raise PolicyError("OpenFGAAuthorizer: api_url must be an http:// or https:// URL without query or fragment")
        _check(_ULID, store_id, "store_id", "a store id (a ULID)")
        if authorization_model_id is not None:
            _check(_ULID, authorization_model_id, "authorization_model_id", "a model id (a ULID)")
        if api_token is not None and (not isinstance(api_token, str) or not api_token):
            raise PolicyError("OpenFGAAuthorizer: api_token must be a non-empty string or None")
        _check(_RELATION, relation, "relation", "a relation name")
        for value, what in ((object_type, "object_type"), (user_type, "user_type"), (agent_type, "agent_type")):
            _check(_TYPE, value, what, "a type name")
        for number, what in ((max_checks, "max_checks"), (max_parallel_requests, "max_parallel_requests")):
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise PolicyError(f"OpenFGAAuthorizer: {what} must be a positive integer, got {number!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < float("inf"):
            raise PolicyError(f"OpenFGAAuthorizer: timeout must be a positive number of seconds, got {timeout!r}")
        if client is not None and not isinstance(client, httpx.Client):
            raise PolicyError("OpenFGAAuthorizer: client must be an httpx.Client (async clients go in async_client)")
        if async_client is not None and not isinstance(async_client, httpx.AsyncClient):
            raise PolicyError("OpenFGAAuthorizer: async_client must be an httpx.AsyncClient")
        self._url = str(url.copy_with(path=f"{url.path.rstrip('/')}/stores/{store_id}/batch-check"))
        self._store_id = store_id
        self._model_id = authorization_model_id
        self._headers = {"Accept": "application/json"}
        if api_token is not None:
            self._headers["Authorization"] = f"Bearer {api_token}"
        self._relation = relation
        self._object_type = object_type
        self._user_type = user_type
        self._agent_type = agent_type
        self._max_checks = max_checks
        self._max_parallel = max_parallel_requests
        self._timeout = float(timeout)
        self._client = client
        self._async_client = async_client
        self._owns_sync = False  # whether _client / _async_client were created here (and are closed here)
        self._owns_async = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenFGAAuthorizer(store_id={self._store_id!r}, relation={self._relation!r})"

    def authorize(self, access: Access, documents: Sequence[DocumentRef]) -> list[str | None]:
        """Per document, in order: ``None`` if every subject may read it in OpenFGA, else the rule id.

        Raises:
            OpenFGAError: A batch got no usable answer (the filter fails closed).
        """
        plan = self._plan(access, documents)
        batches = self._batches(plan)
        if not batches:
            return plan.verdicts(())
        client = self._sync_client()
        allowed: list[bool] = []
        for body, count in batches:
            allowed.extend(self._post(client, body, count))
        return plan.verdicts(allowed)

    async def aauthorize(self, access: Access, documents: Sequence[DocumentRef]) -> list[str | None]:
        """Async twin of `authorize`: up to ``max_parallel_requests`` batches in flight at once.

        Raises:
            OpenFGAError: A batch got no usable answer; the other batches of the call are cancelled.
        """
        plan = self._plan(access, documents)
        batches = self._batches(plan)
        if not batches:
            return plan.verdicts(())
        client = self._async()
        if len(batches) == 1:
            body, count = batches[0]
            return plan.verdicts(await self._apost(client, body, count))
        limit = asyncio.Semaphore(self._max_parallel)

        async def one(body: dict[str, Any], count: int) -> list[bool]:
            async with limit:
                return await self._apost(client, body, count)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(body, count)) for body, count in batches]
        except ExceptionGroup as failed:
            raise failed.exceptions[0]  # noqa: B904 - the OpenFGAError keeps its own __cause__
        return plan.verdicts([answer for task in tasks for answer in task.result()])

    def close(self) -> None:
        """Close the sync client this authorizer created (a client you passed stays open)."""
        with self._lock:
            client = self._client if self._owns_sync else None
            if client is not None:
                self._client, self._owns_sync = None, False
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the clients this authorizer created, async and sync (clients you passed stay open)."""
        with self._lock:
            client = self._async_client if self._owns_async else None
            if client is not None:
                self._async_client, self._owns_async = None, False
        if client is not None:
            await client.aclose()
        self.close()

    def __enter__(self) -> OpenFGAAuthorizer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> OpenFGAAuthorizer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _plan(self, access: Access, documents: Sequence[DocumentRef]) -> _Plan:
        users = self._users(access)
        prefix = f"{self._object_type}:"
        id_max = _OBJECT_MAX - len(prefix)
        local: list[str | None] = []
        slots: list[int] = []
        objects: dict[str, int] = {}
        for document in documents:
            doc_id: object = document.id
            if doc_id is None or doc_id == "":
                rule: str | None = MISSING
            elif not isinstance(doc_id, str) or len(doc_id) > id_max or doc_id == "*" or not _ID.fullmatch(doc_id):
                rule = MALFORMED
            else:
                rule = None if users else NOT_AUTHORIZED
            if rule is not None:
                local.append(rule)
                slots.append(-1)
                continue
            local.append(None)
            slots.append(objects.setdefault(prefix + str(doc_id), len(objects)))
        return _Plan(tuple(local), tuple(slots), users, tuple(objects))

    def _users(self, access: Access) -> tuple[str, ...]:
        """The OpenFGA users to check; empty (deny everything) when a subject has no valid OpenFGA name."""
        users: list[str] = []
        for subject in access.subjects:
            if subject.kind == "anonymous":
                user = f"{self._user_type}:*"
            else:
                name = subject.name
                if not isinstance(name, str) or name == "*" or not _ID.fullmatch(name):
                    return ()
                user = f"{self._user_type if subject.kind == 'user' else self._agent_type}:{name}"
                if len(user) > _USER_MAX:
                    return ()
            if user not in users:
                users.append(user)
        return tuple(users)

    def _batches(self, plan: _Plan) -> list[tuple[dict[str, Any], int]]:
        """The request bodies, ``max_checks`` checks each; correlation ids are positions in the batch."""
        relation = self._relation
        keys = [{"user": user, "relation": relation, "object": obj} for obj in plan.objects for user in plan.users]
        batches: list[tuple[dict[str, Any], int]] = []
        for start in range(0, len(keys), self._max_checks):
            chunk = keys[start : start + self._max_checks]
            body: dict[str, Any] = {
                "checks": [{"tuple_key": key, "correlation_id": str(i)} for i, key in enumerate(chunk)]
            }
            if self._model_id is not None:
                body["authorization_model_id"] = self._model_id
            batches.append((body, len(chunk)))
        return batches

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                self._client, self._owns_sync = httpx.Client(timeout=self._timeout), True
            return self._client

    def _async(self) -> httpx.AsyncClient:
        with self._lock:
            if self._async_client is None:
                import httpx

                self._async_client, self._owns_async = httpx.AsyncClient(timeout=self._timeout), True
            return self._async_client

    def _post(self, client: httpx.Client, body: dict[str, Any], count: int) -> list[bool]:
        with _transport_errors(self._timeout, count):
            response = client.post(self._url, json=body, headers=self._headers, timeout=self._timeout)
        return _answers(response, count)

    async def _apost(self, client: httpx.AsyncClient, body: dict[str, Any], count: int) -> list[bool]:
        with _transport_errors(self._timeout, count):
            response = await client.post(self._url, json=body, headers=self._headers, timeout=self._timeout)
        return _answers(response, count)


def _check(pattern: re.Pattern[str], value: object, what: str, kind: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise PolicyError(f"OpenFGAAuthorizer: {what} must be {kind}, got {value!r}")


@contextlib.contextmanager
def _transport_errors(timeout: float, count: int) -> Iterator[None]:
    """Map httpx's errors to `OpenFGAError`, once, at the boundary (the type name only: no URL, no ids)."""
    import httpx

    try:
        yield
    except httpx.TimeoutException as exc:
        raise OpenFGAError(f"OpenFGA batch check timed out after {timeout:g}s (a batch of {count} checks)") from exc
    except httpx.HTTPError as exc:
        raise OpenFGAError(f"OpenFGA batch check failed: {type(exc).__name__} (a batch of {count} checks)") from exc


def _code(value: object) -> str | None:
    """OpenFGA's error code from an error object, if it is a plain code (never free text)."""
    if not isinstance(value, dict):
        return None
    for key in ("code", "input_error", "internal_error"):
        code = value.get(key)
        if isinstance(code, str) and _CODE.fullmatch(code):
            return code
    return None


def _answers(response: httpx.Response, count: int) -> list[bool]:
    """Read a BatchCheckResponse: ``{"result": {"<correlation id>": {"allowed": bool} | {"error": {...}}}}``.

    Exactly the ids ``"0"`` .. ``str(count - 1)`` must be answered. A check answered with an
    error is not allowed; so is an answer without ``allowed`` (protojson may omit a false value).
    """
    if not response.is_success:
        try:
            code = _code(response.json())
        except ValueError:
            code = None
        detail = f"HTTP {response.status_code}" + (f", {code}" if code else "")
        raise OpenFGAError(f"OpenFGA batch check failed ({detail}) for a batch of {count} checks")
    try:
        data = response.json()
    except ValueError:
        raise OpenFGAError(f"OpenFGA batch check answered with invalid JSON (a batch of {count} checks)") from None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict) or len(result) != count:
        raise OpenFGAError(
            f"OpenFGA batch check answered {len(result) if isinstance(result, dict) else 'no'} results "
            f"for a batch of {count} checks: expected one result per correlation id"
        )
    allowed: list[bool] = []
    errors: dict[str, int] = {}
    for index in range(count):
        item = result.get(str(index))
        if not isinstance(item, dict):
            raise OpenFGAError(
                f"OpenFGA batch check answered without a result for some correlation ids (a batch of {count} checks)"
            )
        if item.get("error") is not None:
            code = _code(item["error"]) or "unknown"
            errors[code] = errors.get(code, 0) + 1
            allowed.append(False)
            continue
        value = item.get("allowed", False)
        if not isinstance(value, bool):
            raise OpenFGAError(f"OpenFGA batch check answered a non-boolean 'allowed' (a batch of {count} checks)")
        allowed.append(value)
    if errors:
        codes = ", ".join(f"{code} x{n}" for code, n in sorted(errors.items()))
        _log.warning(
            "OpenFGA answered %d of %d checks with an error (%s): not admitted", sum(errors.values()), count, codes
        )
    return allowed
