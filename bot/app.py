"""The ``Application`` factory: one place that wires settings, storage, services and handlers.

``zhiyuan run``, the end-to-end tests and the playground all build the bot through
:func:`build_application`, so what is tested is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    ExtBot,
    PersistenceInput,
)

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.delivery import Deliverer, DeliveryRateLimiter
from bot.domain.accounts import AccountService
from bot.domain.broadcasts import BroadcastService
from bot.domain.campaigns import CampaignPolicy, CampaignService
from bot.domain.keydate_admin import KeyDateAdminService
from bot.domain.organizations import OrganizationAdminService
from bot.domain.organizing import OrganizingService
from bot.domain.publishing import PublishingService
from bot.domain.recruiting import RecruitingPolicy, RecruitingService
from bot.domain.registration import RegistrationService
from bot.domain.reminders import ReminderService
from bot.domain.signups import SignupPolicy, SignupService
from bot.domain.staff import StaffService
from bot.domain.users import Language, User
from bot.i18n import Translator, translator
from bot.update_processor import PerUserUpdateProcessor
from storage.activities import ActivitiesRepository
from storage.broadcasts import BroadcastsRepository
from storage.campaigns import CampaignsRepository
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.keydates import KeyDatesRepository
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.persistence import SQLitePersistence
from storage.publishing import PublishingRepository
from storage.recruiting import RecruitingRepository
from storage.reminders import RemindersRepository
from storage.rosters import RostersRepository
from storage.signups import SignupsRepository
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
    organizations: OrganizationsRepository
    activities: ActivitiesRepository
    signups: SignupService
    reminders: ReminderService
    outbox: OutboxRepository
    staff: StaffService
    recruiting: RecruitingService
    organizing: OrganizingService
    org_admin: OrganizationAdminService
    broadcasts: BroadcastService
    key_dates: KeyDatesRepository
    key_date_admin: KeyDateAdminService
    campaigns: CampaignService
    # Built right after the container (it calls the sign-up sweep and reminders).
    publishing: PublishingService
    deliverer: Deliverer = field(init=False)

    def __post_init__(self) -> None:
        self.deliverer = Deliverer(self)

    def translator(self, language: Language) -> Translator:
        return translator(language, self.settings.tz, self.clock)


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
    volunteers = VolunteersRepository(db)
    activities = ActivitiesRepository(db)
    signup_rows = SignupsRepository(db)
    outbox = OutboxRepository(db)
    users = UsersRepository(db)
    organizations = OrganizationsRepository(db)
    key_dates = KeyDatesRepository(db)
    staff = StaffService(users, organizations, activities, settings.admin_ids)
    reminders = ReminderService(RemindersRepository(db), outbox, clock, settings.reminder_offsets)
    signups = SignupService(
        db,
        volunteers,
        activities,
        signup_rows,
        outbox,
        clock,
        settings.tz,
        SignupPolicy(cancel_cutoff=settings.cancel_cutoff, offer_window=settings.offer_window),
        reminders=reminders,
    )
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        accounts=AccountService(users, clock, settings.admin_ids, settings.default_language),
        registration=RegistrationService(
            volunteers,
            catalog,
            clock,
            settings.tz,
            require_id_number=settings.require_id_number,
        ),
        catalog=catalog,
        organizations=organizations,
        activities=activities,
        signups=signups,
        reminders=reminders,
        outbox=outbox,
        staff=staff,
        recruiting=RecruitingService(
            db,
            RecruitingRepository(db),
            clock,
            settings.tz,
            RecruitingPolicy(
                batch_size=settings.invite_batch_size,
                daily_cap=settings.invite_daily_cap,
                cooldown=settings.invite_cooldown,
                understaffed_lead=settings.understaffed_lead,
                understaffed_threshold=settings.understaffed_threshold,
            ),
        ),
        organizing=OrganizingService(
            db, staff, RostersRepository(db), signup_rows, outbox, clock, settings.tz
        ),
        org_admin=OrganizationAdminService(
            db,
            organizations,
            users,
            catalog,
            staff,
            clock,
            settings.admin_ids,
            settings.org_invite_ttl,
        ),
        broadcasts=BroadcastService(db, BroadcastsRepository(db), outbox, catalog, staff, clock),
        key_dates=key_dates,
        key_date_admin=KeyDateAdminService(key_dates, staff, clock),
        campaigns=CampaignService(
            db,
            key_dates,
            CampaignsRepository(db),
            volunteers,
            clock,
            CampaignPolicy.from_settings(settings),
        ),
        publishing=PublishingService(
            db,
            PublishingRepository(db),
            activities,
            catalog,
            staff,
            outbox,
            users,
            volunteers,
            clock,
            settings.tz,
            reminders=reminders,
            key_dates=key_dates,
            sweep=signups.sweep,
        ),
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
        # AIORateLimiter that hands 429s of outbox sends back to the deliverer (bot.delivery).
        .rate_limiter(DeliveryRateLimiter(max_retries=2))
        .build(),
    )
    application.services = services

    from handlers import register_handlers  # handlers import bot.app: keep the cycle lazy

    register_handlers(application)
    assert application.job_queue is not None  # the job-queue extra is a dependency
    application.job_queue.run_repeating(
        deliver_outbox,
        interval=settings.outbox_interval_seconds,
        first=settings.outbox_interval_seconds,
        name=OUTBOX_JOB,
        # A run drains while rows are due (bot.delivery); a tick meanwhile returns at once
        # instead of APScheduler logging "maximum number of running instances reached".
        job_kwargs={"max_instances": 2},
    )
    return application


OUTBOX_JOB = "outbox"


async def deliver_outbox(context: ZyContext) -> None:
    """The outbox job (see :mod:`bot.delivery`). Errors are logged by the error handler."""
    report = await context.services.deliverer.run_once(context.bot)
    if report.cut_short:
        nudge_outbox(context)


def nudge_outbox(context: ZyContext) -> None:
    """Deliver what an action just queued now, rather than at the next tick."""
    job_queue = cast(ZyApplication, context.application).job_queue
    if job_queue is not None:
        job_queue.run_once(deliver_outbox, 0, name=f"{OUTBOX_JOB}-nudge")
