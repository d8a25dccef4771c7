"""Every service of the bot in one container, each built the first time it is asked for.

Handlers reach the services through ``context.services`` (:class:`bot.context.ZyContext`). The
container used to build all of them, and so import every service, repository and most of the
domain, before the bot could answer anyone: ≈ 0.17 s of every start (#14). Now a service and
what it needs are imported and built when a handler, a job or the outbox first reads it, and
kept; the shared parts (repositories with caches, the staff service, the reminders) are built
once too, so every service sees the same ones as before.

The imports inside the properties are deliberate: they are what makes a start load only what
its first updates use. The types are imported for mypy only, so every attribute is still
checked where it is used.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import time
from functools import cached_property
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import Settings
from bot.domain.users import Language
from bot.i18n import Translator, translator
from storage.db import Database

if TYPE_CHECKING:
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
    from bot.services.menus import MenuRoleService
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
    from storage.attendance import AttendanceRepository
    from storage.catalog import CatalogRepository
    from storage.chat_hints import ChatHintsRepository
    from storage.keydates import KeyDatesRepository
    from storage.organizations import OrganizationsRepository
    from storage.outbox import OutboxRepository
    from storage.rosters import RostersRepository
    from storage.signups import SignupsRepository
    from storage.users import UsersRepository
    from storage.volunteers import VolunteersRepository


class Services:
    """Everything handlers may call. One per application; no Telegram types inside."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock

    def translator(self, language: Language) -> Translator:
        return translator(language, self.settings.tz, self.clock)

    # -- repositories shared by several services -------------------------------------------

    @cached_property
    def catalog(self) -> CatalogRepository:
        from storage.catalog import CatalogRepository

        return CatalogRepository(self.db)

    @cached_property
    def organizations(self) -> OrganizationsRepository:
        from storage.organizations import OrganizationsRepository

        return OrganizationsRepository(self.db)

    @cached_property
    def activities(self) -> ActivitiesRepository:
        from storage.activities import ActivitiesRepository

        return ActivitiesRepository(self.db)

    @cached_property
    def outbox(self) -> OutboxRepository:
        from storage.outbox import OutboxRepository

        return OutboxRepository(self.db)

    @cached_property
    def key_dates(self) -> KeyDatesRepository:
        from storage.keydates import KeyDatesRepository

        return KeyDatesRepository(self.db)

    @cached_property
    def chat_hints(self) -> ChatHintsRepository:
        from storage.chat_hints import ChatHintsRepository

        return ChatHintsRepository(self.db)

    @cached_property
    def _users(self) -> UsersRepository:
        from storage.users import UsersRepository

        return UsersRepository(self.db)

    @cached_property
    def _volunteers(self) -> VolunteersRepository:
        from storage.volunteers import VolunteersRepository

        return VolunteersRepository(self.db)

    @cached_property
    def _signup_rows(self) -> SignupsRepository:
        from storage.signups import SignupsRepository

        return SignupsRepository(self.db)

    @cached_property
    def _attendance_rows(self) -> AttendanceRepository:
        from storage.attendance import AttendanceRepository

        return AttendanceRepository(self.db)

    @cached_property
    def _rosters(self) -> RostersRepository:
        from storage.rosters import RostersRepository

        return RostersRepository(self.db)

    # -- services ---------------------------------------------------------------------------

    @cached_property
    def accounts(self) -> AccountService:
        from bot.services.accounts import AccountService

        settings = self.settings
        return AccountService(
            self._users, self.outbox, self.clock, settings.admin_ids, settings.default_language
        )

    @cached_property
    def registration(self) -> RegistrationService:
        from bot.services.registration import RegistrationService

        return RegistrationService(
            self._volunteers,
            self.catalog,
            self.clock,
            self.settings.tz,
            require_id_number=self.settings.require_id_number,
        )

    @cached_property
    def menus(self) -> MenuRoleService:
        from bot.services.menus import MenuRoleService

        return MenuRoleService(self._users, self.settings.admin_ids)

    @cached_property
    def staff(self) -> StaffService:
        from bot.services.staff import StaffService

        return StaffService(
            self._users, self.organizations, self.activities, self.settings.admin_ids
        )

    @cached_property
    def reminders(self) -> ReminderService:
        from bot.services.reminders import ReminderService
        from storage.reminders import RemindersRepository

        return ReminderService(
            RemindersRepository(self.db), self.outbox, self.clock, self.settings.reminder_offsets
        )

    @cached_property
    def signups(self) -> SignupService:
        from bot.services.signups import SignupPolicy, SignupService

        settings = self.settings
        return SignupService(
            self.db,
            self._volunteers,
            self.activities,
            self._signup_rows,
            self.outbox,
            self.clock,
            settings.tz,
            SignupPolicy(
                cancel_cutoff=settings.cancel_cutoff,
                offer_window=settings.offer_window,
                no_show_limit=settings.no_show_limit,
                no_show_window=settings.no_show_window,
            ),
            reminders=self.reminders,
        )

    @cached_property
    def recruiting(self) -> RecruitingService:
        from bot.services.recruiting import RecruitingPolicy, RecruitingService
        from storage.recruiting import RecruitingRepository

        settings = self.settings
        return RecruitingService(
            self.db,
            RecruitingRepository(self.db),
            self.clock,
            settings.tz,
            RecruitingPolicy(
                batch_size=settings.invite_batch_size,
                daily_cap=settings.invite_daily_cap,
                cooldown=settings.invite_cooldown,
                understaffed_lead=settings.understaffed_lead,
                understaffed_threshold=settings.understaffed_threshold,
            ),
        )

    @cached_property
    def management(self) -> ActivityManagementService:
        from bot.services.activity_management import ActivityManagementService

        return ActivityManagementService(
            self.db,
            self.staff,
            self._rosters,
            self._signup_rows,
            self.outbox,
            self.clock,
            self.settings.tz,
        )

    @cached_property
    def org_admin(self) -> OrganizationAdminService:
        from bot.services.organizations import OrganizationAdminService

        return OrganizationAdminService(
            self.db,
            self.organizations,
            self._users,
            self.catalog,
            self.staff,
            self.clock,
            self.settings.admin_ids,
            self.settings.org_invite_ttl,
        )

    @cached_property
    def broadcasts(self) -> BroadcastService:
        from bot.services.broadcasts import BroadcastService
        from storage.broadcasts import BroadcastsRepository

        return BroadcastService(
            self.db,
            BroadcastsRepository(self.db),
            self.outbox,
            self.catalog,
            self.staff,
            self.clock,
        )

    @cached_property
    def key_date_admin(self) -> KeyDateAdminService:
        from bot.services.keydate_admin import KeyDateAdminService

        return KeyDateAdminService(self.key_dates, self.staff, self.clock)

    @cached_property
    def campaigns(self) -> CampaignService:
        from bot.services.campaigns import CampaignPolicy, CampaignService
        from storage.campaigns import CampaignsRepository

        return CampaignService(
            self.db,
            self.key_dates,
            CampaignsRepository(self.db),
            self._volunteers,
            self.clock,
            CampaignPolicy.from_settings(self.settings),
        )

    @cached_property
    def publishing(self) -> PublishingService:
        from bot.services.publishing import PublishingService
        from storage.publishing import PublishingRepository

        return PublishingService(
            self.db,
            PublishingRepository(self.db),
            self.activities,
            self.catalog,
            self.staff,
            self.outbox,
            self._users,
            self._volunteers,
            self.clock,
            self.settings.tz,
            reminders=self.reminders,
            key_dates=self.key_dates,
            sweep=self.signups.sweep,
        )

    @cached_property
    def flows(self) -> FlowService:
        from bot.services.flows import FlowService
        from storage.flows import FlowsRepository

        return FlowService(FlowsRepository(self.db), self.clock)

    @cached_property
    def browsing(self) -> BrowsingService:
        from bot.services.browsing import BrowsingService
        from storage.browsing import BrowseSessionsRepository

        return BrowsingService(BrowseSessionsRepository(self.db), self.clock)

    @cached_property
    def attendance(self) -> AttendanceService:
        from bot.services.attendance import AttendanceService

        return AttendanceService(self._attendance_rows, self.staff, self.clock, self.settings)

    @cached_property
    def records(self) -> RecordsService:
        from bot.services.service_records import RecordsService
        from storage.service_records import ServiceRecordsRepository

        return RecordsService(
            ServiceRecordsRepository(self.db),
            self._attendance_rows,
            self.staff,
            self.clock,
            self.settings,
            recognise=self._recognise,
        )

    async def _recognise(self, volunteer_ids: Collection[int]) -> None:
        """After service hours changed: points first, then the star levels they feed."""
        await self.points.settle()
        await self.stars.after_hours_changed(volunteer_ids)

    @cached_property
    def workdays(self) -> WorkdayService:
        from bot.services.workdays import WorkdayService
        from storage.workdays import CalendarDaysRepository

        settings = self.settings
        return WorkdayService(
            self.db,
            CalendarDaysRepository(self.db),
            self._users,
            self.staff,
            self.outbox,
            self.clock,
            settings.tz,
            settings.admin_ids,
        )

    @cached_property
    def recording_deadlines(self) -> RecordingDeadlineService:
        from bot.services.recording_deadlines import DeadlinePolicy, RecordingDeadlineService
        from storage.recording_deadlines import RecordingDeadlinesRepository

        settings = self.settings
        return RecordingDeadlineService(
            self.db,
            RecordingDeadlinesRepository(self.db),
            self.workdays,
            self.staff,
            self.outbox,
            self.clock,
            settings.tz,
            DeadlinePolicy(
                reminder_days=settings.recording_reminder_days,
                deadline_days=settings.recording_deadline_days,
                reminder_time=time.fromisoformat(settings.recording_reminder_time),
            ),
        )

    @cached_property
    def evaluations(self) -> EvaluationService:
        from bot.services.evaluations import EvaluationService
        from storage.evaluations import EvaluationsRepository

        return EvaluationService(self.db, EvaluationsRepository(self.db), self.staff, self.clock)

    @cached_property
    def awards(self) -> AwardService:
        from bot.services.awards import AwardService
        from storage.awards import AwardsRepository

        return AwardService(AwardsRepository(self.db), self.staff, self.clock, self.settings.tz)

    @cached_property
    def requests(self) -> RequestService:
        from bot.services.requests import RequestPolicy, RequestService
        from storage.requests import RequestsRepository

        settings = self.settings
        return RequestService(
            self.db,
            RequestsRepository(self.db),
            self.catalog,
            self.staff,
            self._users,
            self.clock,
            settings.tz,
            settings.admin_ids,
            RequestPolicy(
                accept_timeout=settings.request_accept_timeout,
                urgent_escalation=settings.request_urgent_escalation,
            ),
        )

    @cached_property
    def certificates(self) -> CertificateService:
        from bot.services.certificates import CertificateService
        from storage.certificates import CertificatesRepository

        return CertificateService(
            CertificatesRepository(self.db),
            self._volunteers,
            self.catalog,
            self.staff,
            self.clock,
            self.settings,
        )

    @cached_property
    def stars(self) -> StarService:
        from bot.services.stars import StarService
        from storage.stars import StarsRepository

        return StarService(
            StarsRepository(self.db),
            self._volunteers,
            self._users,
            self.staff,
            self.clock,
            self.settings,
        )

    @cached_property
    def points(self) -> PointsService:
        from bot.services.points import PointsService
        from storage.points import PointsRepository

        return PointsService(
            PointsRepository(self.db),
            self._volunteers,
            self._users,
            self.staff,
            self.clock,
            self.settings,
        )

    @cached_property
    def honours(self) -> HonoursService:
        from bot.services.honours import HonoursService
        from storage.honours import HonoursRepository

        return HonoursService(
            HonoursRepository(self.db), self._volunteers, self.clock, self.settings.tz
        )

    @cached_property
    def reports(self) -> ReportService:
        from bot.services.reports import ReportPolicy, ReportService
        from storage.reports import ReportsRepository

        settings = self.settings
        return ReportService(
            self.db,
            ReportsRepository(self.db),
            self.staff,
            self._users,
            self.outbox,
            self.clock,
            settings.tz,
            settings.admin_ids,
            ReportPolicy(
                weekday=settings.report_weekday,
                send_time=time.fromisoformat(settings.report_time),
                population=settings.stats_population or None,
            ),
        )

    @cached_property
    def contacts(self) -> ContactService:
        from bot.services.contacts import ContactService
        from storage.contact_reveals import ContactRevealsRepository

        return ContactService(
            ContactRevealsRepository(self.db),
            self.organizations,
            self._rosters,
            self.staff,
            self.clock,
        )

    @cached_property
    def emergency(self) -> EmergencyService:
        from bot.services.emergency import EmergencyService
        from storage.emergency import EmergencyRepository

        return EmergencyService(
            EmergencyRepository(self.db),
            self.staff,
            self.catalog,
            self.outbox,
            self.clock,
            self.settings,
        )
