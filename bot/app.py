"""The ``Application`` factory: one place that wires settings, storage, services and handlers.

``zhiyuan run``, the end-to-end tests and the playground all build the bot through
:func:`build_application`, so what is tested is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    ExtBot,
    PersistenceInput,
)

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.domain.accounts import AccountService
from bot.domain.registration import RegistrationService
from bot.domain.users import Language, User
from bot.i18n import Translator, translator
from bot.update_processor import PerUserUpdateProcessor
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.persistence import SQLitePersistence
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository


@dataclass
class Services:
    """Everything handlers may call. Built once per application; no Telegram types inside."""

    settings: Settings
    db: Database
    clock: Clock
    accounts: AccountService
    registration: RegistrationService
    catalog: CatalogRepository

    def translator(self, language: Language) -> Translator:
        return translator(language, self.settings.tz)


class ZyApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application plus the services container (kept out of ``bot_data`` so it is never
    persisted)."""

    services: Services


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


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Clock = system_clock,
    token: str | None = None,
    api_url: str | None = None,
) -> ZyApplication:
    """Build the bot. ``db`` must be open and migrated (persistence reads it at initialize)."""
    base = (api_url or settings.bot_api_url).rstrip("/")
    catalog = CatalogRepository(db)
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        accounts=AccountService(
            UsersRepository(db), clock, settings.admin_ids, settings.default_language
        ),
        registration=RegistrationService(
            VolunteersRepository(db),
            catalog,
            clock,
            settings.tz,
            require_id_number=settings.require_id_number,
        ),
        catalog=catalog,
    )
    persistence = SQLitePersistence(
        db,
        # Services live on the application, not in bot_data; chat data is not used.
        store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True),
        update_interval=settings.persistence_interval_seconds,
    )
    application = cast(
        ZyApplication,
        ApplicationBuilder()
        .application_class(ZyApplication)
        .token(token or settings.require_token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .context_types(ContextTypes(context=ZyContext))
        .persistence(persistence)
        .concurrent_updates(PerUserUpdateProcessor(settings.concurrent_users))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .build(),
    )
    application.services = services

    from handlers import register_handlers  # handlers import bot.app: keep the cycle lazy

    register_handlers(application)
    return application
