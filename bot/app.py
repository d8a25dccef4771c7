"""The composition root: the one place that wires settings, storage, services and handlers.

``zhiyuan run``, the end-to-end tests and the playground all build the bot through
:func:`build_application` (by way of :class:`bot.runtime.BotRuntime`), so what is tested is
what runs. Only the entry points import this module; handlers see the types of
:mod:`bot.context`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import time
from typing import cast

from telegram.ext import ApplicationBuilder, ContextTypes

from bot.api_retry import PatientRequest
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.context import OUTBOX_JOB, Services, ZyApplication, ZyContext, deliver_outbox
from bot.delivery import Deliverer, DeliveryRateLimiter, Pacer, SendWindow
from bot.services.accounts import AccountService
from bot.services.activity_management import ActivityManagementService
from bot.services.attendance import AttendanceService
from bot.services.awards import AwardService
from bot.services.broadcasts import BroadcastService
from bot.services.browsing import BrowsingService
from bot.services.campaigns import CampaignPolicy, CampaignService
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
from bot.services.recording_deadlines import DeadlinePolicy, RecordingDeadlineService
from bot.services.recruiting import RecruitingPolicy, RecruitingService
from bot.services.registration import RegistrationService
from bot.services.reminders import ReminderService
from bot.services.reports import ReportPolicy, ReportService
from bot.services.requests import RequestPolicy, RequestService
from bot.services.service_records import RecordsService
from bot.services.signups import SignupPolicy, SignupService
from bot.services.staff import StaffService
from bot.services.stars import StarService
from bot.services.workdays import WorkdayService
from bot.update_processor import PerUserUpdateProcessor
from handlers import notification_renderers, register_handlers
from storage.activities import ActivitiesRepository
from storage.attendance import AttendanceRepository
from storage.awards import AwardsRepository
from storage.broadcasts import BroadcastsRepository
from storage.browsing import BrowseSessionsRepository
from storage.campaigns import CampaignsRepository
from storage.catalog import CatalogRepository
from storage.certificates import CertificatesRepository
from storage.chat_hints import ChatHintsRepository
from storage.contact_reveals import ContactRevealsRepository
from storage.db import Database
from storage.emergency import EmergencyRepository
from storage.evaluations import EvaluationsRepository
from storage.flows import FlowsRepository
from storage.honours import HonoursRepository
from storage.keydates import KeyDatesRepository
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.points import PointsRepository
from storage.publishing import PublishingRepository
from storage.recording_deadlines import RecordingDeadlinesRepository
from storage.recruiting import RecruitingRepository
from storage.reminders import RemindersRepository
from storage.reports import ReportsRepository
from storage.requests import RequestsRepository
from storage.rosters import RostersRepository
from storage.service_records import ServiceRecordsRepository
from storage.signups import SignupsRepository
from storage.stars import StarsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from storage.workdays import CalendarDaysRepository


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Clock = system_clock,
    token: str | None = None,
    api_url: str | None = None,
) -> ZyApplication:
    """Build the bot. ``db`` must be open and migrated (flows and drafts are read from it)."""
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
    attendance = AttendanceRepository(db)
    reminders = ReminderService(RemindersRepository(db), outbox, clock, settings.reminder_offsets)
    signups = SignupService(
        db,
        volunteers,
        activities,
        signup_rows,
        outbox,
        clock,
        settings.tz,
        SignupPolicy(
            cancel_cutoff=settings.cancel_cutoff,
            offer_window=settings.offer_window,
            no_show_limit=settings.no_show_limit,
            no_show_window=settings.no_show_window,
        ),
        reminders=reminders,
    )
    workdays = WorkdayService(
        db,
        CalendarDaysRepository(db),
        users,
        staff,
        outbox,
        clock,
        settings.tz,
        settings.admin_ids,
    )
    recording_deadlines = RecordingDeadlineService(
        db,
        RecordingDeadlinesRepository(db),
        workdays,
        staff,
        outbox,
        clock,
        settings.tz,
        DeadlinePolicy(
            reminder_days=settings.recording_reminder_days,
            deadline_days=settings.recording_deadline_days,
            reminder_time=time.fromisoformat(settings.recording_reminder_time),
        ),
    )
    stars = StarService(StarsRepository(db), volunteers, users, staff, clock, settings)
    points = PointsService(PointsRepository(db), volunteers, users, staff, clock, settings)

    async def recognise(volunteer_ids: Collection[int]) -> None:
        await points.settle()
        await stars.after_hours_changed(volunteer_ids)

    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        accounts=AccountService(
            users, outbox, clock, settings.admin_ids, settings.default_language
        ),
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
        management=ActivityManagementService(
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
        flows=FlowService(FlowsRepository(db), clock),
        browsing=BrowsingService(BrowseSessionsRepository(db), clock),
        attendance=AttendanceService(attendance, staff, clock, settings),
        records=RecordsService(
            ServiceRecordsRepository(db), attendance, staff, clock, settings, recognise=recognise
        ),
        workdays=workdays,
        recording_deadlines=recording_deadlines,
        evaluations=EvaluationService(db, EvaluationsRepository(db), staff, clock),
        awards=AwardService(AwardsRepository(db), staff, clock, settings.tz),
        requests=RequestService(
            db,
            RequestsRepository(db),
            catalog,
            staff,
            users,
            clock,
            settings.tz,
            settings.admin_ids,
            RequestPolicy(
                accept_timeout=settings.request_accept_timeout,
                urgent_escalation=settings.request_urgent_escalation,
            ),
        ),
        certificates=CertificateService(
            CertificatesRepository(db), volunteers, catalog, staff, clock, settings
        ),
        stars=stars,
        points=points,
        honours=HonoursService(HonoursRepository(db), volunteers, clock, settings.tz),
        reports=ReportService(
            db,
            ReportsRepository(db),
            staff,
            users,
            outbox,
            clock,
            settings.tz,
            settings.admin_ids,
            ReportPolicy(
                weekday=settings.report_weekday,
                send_time=time.fromisoformat(settings.report_time),
                population=settings.stats_population or None,
            ),
        ),
        chat_hints=ChatHintsRepository(db),
        contacts=ContactService(
            ContactRevealsRepository(db), organizations, RostersRepository(db), staff, clock
        ),
        emergency=EmergencyService(
            EmergencyRepository(db), staff, catalog, outbox, clock, settings
        ),
    )
    # Every message sent, answers and bulk, counted in one place: the outbox paces by it.
    send_window = SendWindow()
    updates_request = PatientRequest(connection_pool_size=1, log_outages=False)
    application = cast(
        ZyApplication,
        ApplicationBuilder()
        .application_class(ZyApplication)
        .token(token or settings.require_token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .context_types(ContextTypes(context=ZyContext))
        .concurrent_updates(PerUserUpdateProcessor(settings.concurrent_users))
        # AIORateLimiter that hands 429s of outbox sends back to the deliverer (bot.delivery).
        .rate_limiter(DeliveryRateLimiter(max_retries=2, window=send_window))
        # Replies retried through an outage, never sent twice (bot.api_retry); polling retries
        # in its own loop, so its requests only get the outage-aware errors.
        .request(PatientRequest(connection_pool_size=256))
        .get_updates_request(updates_request)
        .build(),
    )
    application.services = services
    application.updates_request = updates_request
    application.deliverer = Deliverer(
        outbox=outbox,
        accounts=services.accounts,
        sweep=signups.sweep,
        clock=clock,
        settings=settings,
        translator_for=services.translator,
        renderers=notification_renderers(),
        render_context=services,
        pacer=Pacer(
            settings.send_rate_per_second,
            settings.chat_interval_seconds,
            settings.group_messages_per_minute,
            window=send_window,
        ),
    )
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
