"""Texts shared by the service-record screens: refusals, marks and hours as people read them."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from telegram import InlineKeyboardButton

from bot.domain.hours import AttendanceMark, format_hours
from bot.domain.service_records import RecordsRefusal
from bot.i18n import N_, Translator
from handlers.callbacks import Press
from handlers.refusals import RefusalTexts
from handlers.staff import STAFF_REFUSALS

RECORDS_REFUSALS: dict[StrEnum, str] = {
    RecordsRefusal.NOT_VOLUNTEER: N_(
        "Please register as a volunteer first (/start), then check in again."
    ),
    RecordsRefusal.WINDOW_NOT_OPEN: N_("Check-in is not open yet. It opens at {when}."),
    RecordsRefusal.WINDOW_CLOSED: N_("Check-in for this activity closed at {when}."),
    RecordsRefusal.NO_CHECKIN: N_(
        "The organizer is not showing a code for this activity right now."
    ),
    RecordsRefusal.EXPIRED_CODE: N_(
        "This code has expired: codes change every 30 seconds, so a forwarded or old code does "
        "not work. Please scan or type the code the organizer is showing now."
    ),
    RecordsRefusal.WRONG_CODE: N_(
        "No activity is showing this code. Please check the six digits on the organizer's "
        "screen and try again."
    ),
    RecordsRefusal.NOT_CHECKED_IN: N_(
        "You have not checked in to this activity, so you cannot check out. Please ask the "
        "organizer to mark you present."
    ),
    RecordsRefusal.ALREADY_CONFIRMED: N_(
        "The hours of this activity are confirmed already; changes now go through a "
        "correction request."
    ),
    RecordsRefusal.NOT_STARTED: N_("Not yet: this is possible from {when}."),
    RecordsRefusal.NOT_RECORDED: N_("This activity is not recorded as volunteer service."),
    RecordsRefusal.CHANGED: N_(
        "The list changed since it was shown (someone checked in or an organizer edited it). "
        "Here is the current list; please check it and confirm again."
    ),
    RecordsRefusal.NOT_YOURS: N_("This button is no longer valid."),
    RecordsRefusal.PENDING: N_(
        "A correction of this record is already waiting for the organizer's decision."
    ),
    RecordsRefusal.DECIDED: N_("This correction has already been decided."),
    RecordsRefusal.SAME_HOURS: N_("That does not change the hours."),
    RecordsRefusal.NO_SUCH_VOLUNTEER: N_(
        "No registered volunteer has that mobile number or username. Ask them to register "
        "with the bot first, then add them again."
    ),
    RecordsRefusal.CANCELLED: N_("This activity was cancelled."),
}

TEXTS = RefusalTexts(STAFF_REFUSALS, RECORDS_REFUSALS)

MARK_LABELS: dict[AttendanceMark, str] = {
    AttendanceMark.PRESENT: N_("✅ Present"),
    AttendanceMark.LATE: N_("⏰ Late"),
    AttendanceMark.ABSENT: N_("❌ Absent"),
    AttendanceMark.EXCUSED: N_("🙏 Excused"),
}

MARK_REASON_LABELS: dict[str, str] = {
    "no_phone": N_("No phone with them"),
    "code_failed": N_("The code did not work"),
    "seen_on_site": N_("Seen on site"),
    "told_us": N_("Told us in advance"),
    "did_not_come": N_("Did not come"),
    "walk_in": N_("Came without signing up"),
}


def hours_text(t: Translator, minutes: int) -> str:
    """``3.5 h`` / ``3.5 小时``."""
    return t.gettext("{hours} h").format(hours=format_hours(minutes))


def mark_label(t: Translator, mark: AttendanceMark | None) -> str:
    if mark is None:
        return t.gettext("➖ Not checked in")
    return t.gettext(MARK_LABELS[mark])


def reason_label(t: Translator, reason: str) -> str:
    """A stored reason: a quick-reason code is shown translated, typed text as it is."""
    label = MARK_REASON_LABELS.get(reason)
    return t.gettext(label) if label is not None else reason


def pager_row(
    t: Translator, page: int, pages: int, at: Callable[[int], Press]
) -> list[InlineKeyboardButton]:
    """◀️ n / N ▶️ for a list cut into pages (empty when it fits on one)."""
    if pages <= 1:
        return []
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(at(page - 1).button(t.gettext("◀️ Previous")))
    row.append(at(page).button(t.gettext("{page} / {pages}").format(page=page + 1, pages=pages)))
    if page < pages - 1:
        row.append(at(page + 1).button(t.gettext("Next ▶️")))
    return row
