"""What handlers see of the application: the services container and the typed context.

This module is the seam between the wiring (:mod:`bot.app`, imported only by the entry points)
and the handlers: handlers import these types, never the wiring, so nothing imports its way
back up to the composition root (the import circle ``app ↔ handlers ↔ delivery`` is gone).
It imports no handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot
from telegram.request import BaseRequest

from bot.clock import Clock
from bot.config import Settings
from bot.delivery import Deliverer, Renderer
from bot.domain.notifications import NotificationKind
from bot.domain.users import Language, User
from bot.i18n import Translator, translator
from bot.services.accounts import AccountService
from bot.services.activity_management import ActivityManagementService
from bot.services.attendance import AttendanceService
from bot.services.awards import AwardService
from bot.services.broadcasts import BroadcastService
from bot.services.browsing import BrowsingService
from bot.services.campaigns import CampaignService
from bot.services.certificates import CertificateService
from bot.services.contacts import ContactService
from bot.services.emergency import EmergencyService
from bot.services.evaluations import EvaluationService
from bot.services.flows import FlowService
from bot.services.honours import HonoursService
from bot.services.keydate_admin import KeyDateAdminService
from bot.services.organizations import OrganizationAdminService
from bot.services.points import PointsService
from bot.services.publishing import PublishingService
from bot.services.recording_deadlines import RecordingDeadlineService
from bot.services.recruiting import RecruitingService
from bot.services.registration import RegistrationService
from bot.services.reminders import ReminderService
from bot.services.reports import ReportService
from bot.services.requests import RequestService
from bot.services.service_records import RecordsService
from bot.services.signups import SignupService
from bot.services.staff import StaffService
from bot.services.stars import StarService
from bot.services.workdays import WorkdayService
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogRepository
from storage.chat_hints import ChatHintsRepository
from storage.db import Database
from storage.keydates import KeyDatesRepository
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository


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
    management: ActivityManagementService
    org_admin: OrganizationAdminService
    broadcasts: BroadcastService
    key_dates: KeyDatesRepository
    key_date_admin: KeyDateAdminService
    campaigns: CampaignService
    publishing: PublishingService
    flows: FlowService
    browsing: BrowsingService
    attendance: AttendanceService
    records: RecordsService
    workdays: WorkdayService
    recording_deadlines: RecordingDeadlineService
    evaluations: EvaluationService
    awards: AwardService
    requests: RequestService
    certificates: CertificateService
    stars: StarService
    points: PointsService
    honours: HonoursService
    reports: ReportService
    chat_hints: ChatHintsRepository
    contacts: ContactService
    emergency: EmergencyService

    def translator(self, language: Language) -> Translator:
        return translator(language, self.settings.tz, self.clock)


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
