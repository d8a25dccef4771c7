"""Notifications the bot sends on its own initiative, as rows of the outbox.

A notification names *what* it is about (ids in ``payload``), not its text: it is rendered at
send time in the recipient's language, and dropped when it has gone stale (an offer that was
already answered, an activity that was cancelled). See ``storage.outbox`` and ``bot.delivery``.

Every kind the bot can send is listed here, so the delivery job can tell at a glance which
ones are time-critical (they ignore the recipient's quiet hours) and which may wait.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class NotificationKind(StrEnum):
    # Sign-ups and the waitlist (bot.services.signups).
    WAITLIST_OFFER = "waitlist_offer"  # a spot is held for you: accept or decline
    OFFER_EXPIRED = "offer_expired"  # you did not answer in time; the spot went to the next
    # Reminders before an activity (bot.services.reminders); the first one asks "Still coming?".
    REMINDER = "reminder"
    # Organizers changed or cancelled an activity someone signed up for.
    ACTIVITY_CHANGED = "activity_changed"
    ACTIVITY_CANCELLED = "activity_cancelled"
    MOVED_TO_WAITLIST = "moved_to_waitlist"  # capacity was lowered below the confirmed count
    ORGANIZER_MESSAGE = "organizer_message"  # "message participants" from the roster
    # Organizations and staff.
    ORG_APPLICATION = "org_application"  # to administrators: a new application to decide
    ORG_DECISION = "org_decision"  # to the applicant: approved or rejected
    # Recruiting (bot.services.recruiting).
    INVITATION = "invitation"  # an organizer invites a matching volunteer
    UNDERSTAFFED = "understaffed"  # to organizers: an activity is short of people
    # Key dates and campaigns (bot.services.campaigns).
    KEY_DATE_HEADS_UP = "key_date_heads_up"  # to organizers, 14 days ahead
    CAMPAIGN = "campaign"  # to opted-in volunteers, 7 and 1 days ahead
    KEY_DATE_GREETING = "key_date_greeting"  # on the day
    DIGEST = "digest"  # weekly digest of new matching activities
    BROADCAST = "broadcast"  # an administrator's announcement
    # Service records (bot.services.service_records).
    HOURS_RECORDED = "hours_recorded"  # to a volunteer: the organizer confirmed your hours
    CORRECTION_REQUESTED = "correction_requested"  # to organizers: a volunteer asks to correct
    CORRECTION_DECIDED = "correction_decided"  # to the volunteer: approved or rejected
    # Service records within 10 working days (bot.services.recording_deadlines): to the
    # organization's staff on working days 3, 7 and 9 while the hours are unconfirmed.
    RECORDING_DUE = "recording_due"
    # To administrators from December 1: next year's working-day calendar has no data yet.
    WORKDAYS_MISSING = "workdays_missing"
    # Evaluation and awards (民政部令第67号 Art. 9–10; bot.services.evaluations, .awards).
    RATING_REQUEST = "rating_request"  # to a volunteer with a record: how was the activity?
    LOW_ACTIVITY_RATING = "low_activity_rating"  # to managers: a volunteer rated it ≤ 2 stars
    AWARD_GRANTED = "award_granted"  # to the volunteer: an award was entered for you
    # Resident requests (bot.services.requests): 点单 → 派单 → 接单 → 评单.
    REQUEST_NEW = "request_new"  # to the area's dispatchers: a resident ordered a service
    REQUEST_STATUS = "request_status"  # to the resident: your request changed (rate when done)
    REQUEST_ASSIGNED = "request_assigned"  # to the team: a request for you, accept or decline
    REQUEST_ACCEPT_REMINDER = "request_accept_reminder"  # to the team: not accepted yet
    REQUEST_RETURNED = "request_returned"  # to dispatchers: declined, timed out, re-dispatched
    REQUEST_ESCALATED = "request_escalated"  # to administrators: an urgent one is waiting
    REQUEST_HELP_ASKED = "request_help_asked"  # to a volunteer: can you serve this request?
    REQUEST_HELPER_ANSWER = "request_helper_answer"  # to the team: the volunteer's answer
    REQUEST_WITHDRAWN = "request_withdrawn"  # to the team/helpers: cancelled or moved away
    REQUEST_HOURS = "request_hours"  # to the volunteers who served: hours recorded
    REQUEST_LOW_RATING = "request_low_rating"  # to dispatchers: the resident rated it ≤ 2
    # Certificates (证明出具, Art. 14–17; bot.services.certificates).
    CERTIFICATE_REQUESTED = "certificate_requested"  # to the recording unit's managers: approve?
    CERTIFICATE_DECIDED = "certificate_decided"  # to the volunteer: issued, or rejected and why
    CERTIFICATE_REVOKED = "certificate_revoked"  # to the holder: revoked, with the reason
    # Star levels, points and rewards (issue #17; bot.services.stars, .points).
    STAR_REACHED = "star_reached"  # to a volunteer: the confirmed hours reached a level
    STAR_ELIGIBLE = "star_eligible"  # the same when levels need an application: apply
    STAR_PUBLICITY = "star_publicity"  # to administrators: a level is publicised, object?
    STAR_GRANTED = "star_granted"  # to the volunteer: the publicity is over, the level counts
    STAR_OBJECTED = "star_objected"  # to the volunteer: an administrator objected
    REWARD_REDEEMED = "reward_redeemed"  # to the offering organization's staff: hand it over
    # Reports (bot.services.reports): after the hours are confirmed, to who confirmed them:
    # record people served, money and media; during a campaign period, the day before the
    # report day, to the staff of organizations with activities missing figures; on the report
    # day, the statistics table (an XLSX document) to managers and the roll-up to administrators.
    REPORT_FIGURES_DUE = "report_figures_due"
    REPORT_FIGURES_MISSING = "report_figures_missing"
    REPORT_WEEKLY = "report_weekly"
    # Emergency mobilization (bot.services.emergency): urgent, so past quiet hours (no digest,
    # no opt-out but leaving the on-call pool), still paced by the outbox like everything else.
    EMERGENCY_ALERT = "emergency_alert"  # to an on-call volunteer: can you come?
    EMERGENCY_UPDATE = "emergency_update"  # the coordinator's update to everyone coming
    EMERGENCY_STAND_DOWN = "emergency_stand_down"  # to those coming and those not answered

    @property
    def is_time_critical(self) -> bool:
        """Time-critical kinds are sent at once; the others wait out the quiet hours."""
        return self in _TIME_CRITICAL


_TIME_CRITICAL = frozenset(
    {
        NotificationKind.WAITLIST_OFFER,
        NotificationKind.OFFER_EXPIRED,
        NotificationKind.REMINDER,
        NotificationKind.ACTIVITY_CHANGED,
        NotificationKind.ACTIVITY_CANCELLED,
        NotificationKind.MOVED_TO_WAITLIST,
        NotificationKind.ORGANIZER_MESSAGE,
        NotificationKind.ORG_APPLICATION,
        NotificationKind.ORG_DECISION,
        NotificationKind.UNDERSTAFFED,
        NotificationKind.EMERGENCY_ALERT,
        NotificationKind.EMERGENCY_UPDATE,
        NotificationKind.EMERGENCY_STAND_DOWN,
        NotificationKind.REQUEST_ASSIGNED,
        NotificationKind.REQUEST_ESCALATED,
        NotificationKind.REQUEST_HELP_ASKED,
    }
)


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: NotificationKind
    telegram_id: int
    # What it is about, unique per recipient and kind, e.g. "signup:12:2026-12-01T08:00".
    # Planning the same notification twice therefore stores it once.
    subject: str
    payload: dict[str, int | str] = Field(default_factory=dict)
    due_at: datetime
    # Groups the rows of one mass sending (a broadcast, a campaign, a roster message) so its
    # progress can be counted and the rest cancelled; ``None`` for one-off notifications.
    batch_key: str | None = None

    @property
    def dedup_key(self) -> str:
        return f"{self.kind.value}:{self.telegram_id}:{self.subject}"


class OutboxItem(BaseModel):
    """A claimed outbox row, ready to render and send."""

    model_config = ConfigDict(frozen=True)

    notification_id: int
    kind: NotificationKind
    telegram_id: int
    payload: dict[str, int | str]
    due_at: datetime
    attempts: int
    batch_key: str | None = None
