"""Answers that survive a Bot API outage: a reply that failed is sent again while it still makes
sense, and never twice (issue #15).

The retry sits in PTB's request layer (:class:`PatientRequest`, the bot's
:class:`~bot.http_client.AiohttpRequest`), around the
single HTTP call, not around the handler: the handler's work (a sign-up, a flow that moved on)
is done once, and only the call that failed is made again, so a handler that sent two messages
before the third failed does not send the first two again on a replay. Why not release the
update back to the inbox and run the whole handler again: every handler would have to be safe
against *partial* replays (a typed answer that already moved a flow to its next question would
be read as the answer to that question), which a crash makes rare but an outage makes common.

Which failures are retried:

* the request certainly did not reach the Bot API — the connection was refused or never made
  (connect or pool timeout), a gateway answered 502 or 503, or a gateway's own 404 page (not the
  API's JSON): any method;
* the request may have been carried out — no answer in time, the connection dropped after the
  request was sent, another 5xx: only methods whose repetition changes nothing (edits, answering a
  button press, deleting, reading). A message that may have arrived is **not** sent again: Telegram
  has no idempotency key, a second copy would be a visible duplicate, and in practice a send that
  timed out after reaching the API was delivered. A repeated edit that finds "message is not
  modified", or a repeated answer to a button press that finds it answered already ("query is
  too old"), means the first try did arrive: it counts as done.

Only requests made while an update is being handled are retried (:func:`retry_replies_until`, set
by :class:`bot.inbox.InboxProcessor` per update): until ``REPLY_RETRY_FOR`` after the update was
received, with a pause doubling from 0.5 s up to :data:`MAX_PAUSE`, so answers resume within
seconds of the API's return. Polling has its own loop (:class:`bot.inbox.Poller`) and the outbox
its own rows (:mod:`bot.delivery`), which retry while notifications are timely; their requests
fail at once here, as before.

Failures the retry cannot hide surface as :class:`ApiUnreachable` (a ``NetworkError``), also for
a gateway's 404 — which PTB would report as an invalid token — so the error handler tells an
outage from a bug, and nothing logs the gateway's HTML with a traceback per try. One warning when
requests begin to fail and one when they work again; the tries in between are silent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.http_client import AiohttpRequest, NotSent, NotSentTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The longest pause between two tries of one request.
MAX_PAUSE = 2.0
FIRST_PAUSE = 0.5

#: Answered by a gateway in front of the API (or by an API that is down): not carried out.
_NOT_REACHED_STATUS = frozenset({502, 503})
#: Methods whose repetition changes nothing beyond the first success.
_REPEATABLE_PREFIXES = ("edit", "answer", "delete", "get", "set", "sendchataction", "unpin", "pin")
_ALREADY_DONE = (
    ("edit", "message is not modified"),
    ("answercallbackquery", "query is too old"),
    ("delete", "message to delete not found"),
)
_DONE_BODY = b'{"ok":true,"result":true}'


class ApiUnreachable(NetworkError):
    """The Bot API could not be reached (refused, timed out, a gateway's 5xx or 404 page)."""


@dataclass(frozen=True)
class _ReplyScope:
    task: asyncio.Task[Any] | None
    deadline: float  # time.monotonic()


_scope: ContextVar[_ReplyScope | None] = ContextVar("zhiyuan_reply_scope", default=None)


def retry_replies_until(deadline: float) -> None:
    """Requests the current task makes from now on are retried until ``deadline``
    (``time.monotonic()``). Tasks it starts (a job queued by a handler inherits the context)
    are not covered: the outbox retries its own way."""
    _scope.set(_ReplyScope(asyncio.current_task(), deadline))


def reply_task(operation: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run ``operation`` in a task of its own that keeps the current task's reply retry (the
    scope is per task: a task started plainly would get none). For a reply sent alongside the
    handler's work, as a button press's answer is (``handlers.render.answering_alongside``)."""
    deadline = _retry_deadline()

    async def in_scope() -> T:
        if deadline is not None:
            retry_replies_until(deadline)
        return await operation

    return asyncio.create_task(in_scope())


def _retry_deadline() -> float | None:
    scope = _scope.get()
    if scope is None or scope.task is not asyncio.current_task():
        return None
    return scope.deadline


def _method(url: str) -> str:
    return url.rsplit("/", 1)[-1].lower()


def _repeatable(method: str) -> bool:
    return method.startswith(_REPEATABLE_PREFIXES)


def _description(status: int, payload: bytes) -> tuple[bool, str]:
    """Whether ``payload`` is the Bot API's own JSON, and what it (or the status) says."""
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if isinstance(data, dict) and "ok" in data:
        return True, str(data.get("description") or status)
    return False, f"HTTP {status} from something in front of the Bot API"


@dataclass(frozen=True)
class _Failure:
    #: The request certainly did not reach the API (safe to repeat for any method).
    not_reached: bool
    what: str


def _failure_of_error(error: TelegramError) -> _Failure | None:
    cause = error.__cause__
    if isinstance(error, NotSent | NotSentTimeout):
        return _Failure(True, error.message)
    if isinstance(error, TimedOut | NetworkError):
        name = type(cause).__name__ if cause is not None else type(error).__name__
        return _Failure(False, f"{name}: {cause or error}".rstrip(": "))
    return None


def _failure_of_answer(status: int, payload: bytes) -> _Failure | None:
    if status in _NOT_REACHED_STATUS:
        return _Failure(True, _description(status, payload)[1])
    if status >= 500:  # 500, 504, a CDN's 52x: it may or may not have been carried out
        return _Failure(False, _description(status, payload)[1])
    if status == 404:
        from_api, what = _description(status, payload)
        if not from_api:
            return _Failure(True, what)
    return None


def _plan(deadline: float | None, retrying: bool) -> str:
    if retrying:
        return "answers are retried while they make sense"
    if deadline is None:
        return "left to the caller (polling and the outbox retry their own way)"
    return "not sent again: it may have arrived"


class _OutageLog:
    """One warning when requests begin to fail, one when they work again."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.failed_tries = 0

    def failed(self, method: str, failure: _Failure, plan: str) -> None:
        self.failed_tries += 1
        if self.since is None:
            self.since = time.monotonic()
            log.warning("the Bot API cannot be reached (%s on %s); %s", failure.what, method, plan)

    def worked(self) -> None:
        if self.since is not None:
            log.warning(
                "the Bot API answers again after %.0f s (%s tries failed meanwhile)",
                time.monotonic() - self.since,
                self.failed_tries,
            )
            self.since = None
            self.failed_tries = 0


class PatientRequest(AiohttpRequest):
    """The bot's request layer, retrying an interactive answer through an outage (see the
    module)."""

    def __init__(self, *args: Any, log_outages: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outage = _OutageLog() if log_outages else None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = _method(url)
        deadline = _retry_deadline()
        pause = FIRST_PAUSE
        tries = 0
        raised: TelegramError | None
        while True:
            tries += 1
            try:
                status, payload = await self._send_once(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except TelegramError as error:
                failure = _failure_of_error(error)
                if failure is None:
                    raise
                status, payload, raised = 0, b"", error
            else:
                failure, raised = _failure_of_answer(status, payload), None
            if failure is None:
                if self._outage is not None:
                    self._outage.worked()
                return (
                    self._settled(api_method, status, payload) if tries > 1 else (status, payload)
                )
            retrying = deadline is not None and (failure.not_reached or _repeatable(api_method))
            if self._outage is not None:
                self._outage.failed(api_method, failure, _plan(deadline, retrying))
            if not retrying or deadline is None or time.monotonic() + pause > deadline:
                if retrying or tries > 1:
                    log.info("gave up %s after %s tries: %s", api_method, tries, failure.what)
                if raised is not None and not failure.not_reached:
                    raise raised  # TimedOut stays TimedOut: it may have arrived
                raise ApiUnreachable(f"Bot API unreachable: {failure.what}")
            await asyncio.sleep(pause)
            pause = min(MAX_PAUSE, pause * 2)

    async def _send_once(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        **timeouts: Any,
    ) -> tuple[int, bytes]:
        """One try (the tests replace it with scripted answers)."""
        return await super().do_request(url, method, request_data, **timeouts)

    @staticmethod
    def _settled(method: str, status: int, payload: bytes) -> tuple[int, bytes]:
        """On a repeated try, an error that means the first try did arrive counts as done."""
        if status == 400:
            text = payload.decode("utf-8", "replace").lower()
            for prefix, words in _ALREADY_DONE:
                if method.startswith(prefix) and words in text:
                    return 200, _DONE_BODY
        return status, payload
