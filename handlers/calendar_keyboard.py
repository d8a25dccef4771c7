"""An inline calendar and time keyboard (pure builders: no state, no Telegram calls).

The picked day and hour are kept by the caller (the publishing draft); the caller also says what
each button carries (:class:`CalendarButtons`), so a press names the form step and the draft
version it was drawn for like every other button of the form. The keyboards only lay out: another
month, a day, an hour, a minute, back to the calendar, and inert labels.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from babel.dates import format_skeleton, get_day_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from handlers.callbacks import button_rows, parse_int

MINUTES = (0, 15, 30, 45)
MONTHS_AHEAD = 24  # the calendar does not page further than this


@dataclass(frozen=True)
class CalendarButtons:
    """The callback data of each kind of calendar button."""

    month: Callable[[int, int], str]  # another month (year, month)
    day: Callable[[date], str]
    hour: Callable[[int], str]
    minute: Callable[[int], str]
    unpick: str  # back from the hours or minutes to the calendar
    noop: str  # labels and days that cannot be picked


def parse_month(text: str) -> tuple[int, int] | None:
    if len(text) != 6 or parse_int(text, 6) is None:
        return None
    year, month = int(text[:4]), int(text[4:])
    return (year, month) if 1 <= month <= 12 else None


def parse_day(text: str) -> date | None:
    if len(text) != 8 or parse_int(text, 8) is None:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def month_code(year: int, month: int) -> int:
    """A month as the whole number ``yyyymm`` (read back with :func:`parse_month`)."""
    return year * 100 + month


def day_code(day: date) -> int:
    """A day as the whole number ``yyyymmdd`` (read back with :func:`parse_day`)."""
    return day.year * 10_000 + day.month * 100 + day.day


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_keyboard(
    buttons: CalendarButtons,
    t: Translator,
    today: date,
    year: int | None = None,
    month: int | None = None,
    *,
    extra: list[list[InlineKeyboardButton]] | None = None,
) -> InlineKeyboardMarkup:
    """A month of day buttons; days before ``today`` are inert dots."""
    year, month = (year, month) if year and month else (today.year, today.month)
    first = (today.year, today.month)
    last = _shift(today.year, today.month, MONTHS_AHEAD)
    year, month = max(first, min(last, (year, month)))
    noop = buttons.noop
    # "2026年12月" / "December 2026": the locale's own order of year and month.
    title = format_skeleton("yMMMM", date(year, month, 1), locale=t.locale)
    previous = _shift(year, month, -1)
    following = _shift(year, month, 1)
    rows: list[list[InlineKeyboardButton]] = [
        [
            InlineKeyboardButton(
                "‹",
                callback_data=buttons.month(*previous) if (year, month) > first else noop,
            ),
            InlineKeyboardButton(title, callback_data=noop),
            InlineKeyboardButton(
                "›",
                callback_data=buttons.month(*following) if (year, month) < last else noop,
            ),
        ]
    ]
    names = get_day_names("narrow", locale=t.locale)
    rows.append([InlineKeyboardButton(names[day], callback_data=noop) for day in range(7)])
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        row = []
        for day in week:
            if day == 0:
                row.append(InlineKeyboardButton(" ", callback_data=noop))
            elif date(year, month, day) < today:
                row.append(InlineKeyboardButton("·", callback_data=noop))
            else:
                row.append(
                    InlineKeyboardButton(
                        str(day), callback_data=buttons.day(date(year, month, day))
                    )
                )
        rows.append(row)
    return InlineKeyboardMarkup([*rows, *(extra or [])])


def hour_keyboard(
    buttons: CalendarButtons,
    t: Translator,
    *,
    extra: list[list[InlineKeyboardButton]] | None = None,
) -> InlineKeyboardMarkup:
    hours = button_rows(
        [
            InlineKeyboardButton(f"{hour:02d}", callback_data=buttons.hour(hour))
            for hour in range(24)
        ],
        6,
    )
    back = InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=buttons.unpick)
    return InlineKeyboardMarkup([*hours, [back], *(extra or [])])


def minute_keyboard(
    buttons: CalendarButtons,
    t: Translator,
    hour: int,
    *,
    extra: list[list[InlineKeyboardButton]] | None = None,
) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(f"{hour:02d}:{minute:02d}", callback_data=buttons.minute(minute))
        for minute in MINUTES
    ]
    back = InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=buttons.unpick)
    return InlineKeyboardMarkup([row, [back], *(extra or [])])
