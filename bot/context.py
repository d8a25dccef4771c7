"""What handlers see of the application: the services container and the typed context.

This module is the seam between the wiring (:mod:`bot.app`, imported only by the entry points)
and the handlers: handlers import these types, never the wiring, so nothing imports its way
back up to the composition root (the import circle ``app ↔ handlers ↔ delivery`` is gone).
It imports no handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, cast

from telegram.ext import Application, BaseHandler, CallbackContext, ExtBot
from telegram.request import BaseRequest

from bot.delivery import Deliverer, Renderer
from bot.domain.notifications import NotificationKind
from bot.domain.users import Language, User
from bot.i18n import Translator
from bot.services.container import Services

AnyHandler = BaseHandler[Any, Any, Any]


class HandlerSink(Protocol):
    """Where a handler module's ``register`` adds its handlers: the application, or the
    recorder of a module loaded on first use (:mod:`handlers.lazy`)."""

    def add_handler(self, handler: AnyHandler, group: int = 0) -> None: ...


#: A handler module's table of the notifications it renders.
Renderers = Mapping[NotificationKind, Renderer[Services]]


class ZyApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application plus the services container and the outbox deliverer (kept out of
    ``bot_data`` so they are never persisted)."""

    services: Services
    deliverer: Deliverer[Services]
    #: The request layer of getUpdates: the poller reads the updates' JSON through it directly.
    updates_request: BaseRequest


class ZyContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context handlers receive: ``context.services``, ``context.user`` and ``context.t``.

    PTB builds one context per update and shares it across handler groups, so the middleware
    in group -1 (``handlers.middleware``) fills ``user`` and ``t`` once for all handlers.
    """

    @property
    def services(self) -> Services:
        return cast(ZyApplication, self.application).services

    @property
    def user(self) -> User:
        user: User | None = getattr(self, "_zy_user", None)
        if user is None:
            raise RuntimeError("context.user is only available after the middleware ran")
        return user

    @property
    def t(self) -> Translator:
        found: Translator | None = getattr(self, "_zy_translator", None)
        if found is None:
            return self.services.translator(self.services.settings.default_language)
        return found

    def bind_user(self, user: User, language: Language) -> None:
        self._zy_user = user
        self._zy_translator = self.services.translator(language)


OUTBOX_JOB = "outbox"


async def deliver_outbox(context: ZyContext) -> None:
    """The outbox job (see :mod:`bot.delivery`). Errors are logged by the error handler."""
    application = cast(ZyApplication, context.application)
    report = await application.deliverer.run_once(context.bot)
    if report.cut_short:
        nudge_outbox(context)


def nudge_outbox(context: ZyContext) -> None:
    """Deliver what an action just queued now, rather than at the next tick."""
    job_queue = cast(ZyApplication, context.application).job_queue
    if job_queue is not None:
        job_queue.run_once(deliver_outbox, 0, name=f"{OUTBOX_JOB}-nudge")
