"""An inline calendar and time keyboard (pure builders: no state, no Telegram calls).

The picked day and hour are kept by the caller (the publishing draft), so each keyboard only
carries what the next press needs in its callback data: ``<prefix>:cal:<yyyymm>`` (another
month), ``<prefix>:day:<yyyymmdd>``, ``<prefix>:hr:<h>``, ``<prefix>:min:<m>``,
``<prefix>:unpick`` (back to the calendar) and ``<prefix>:noop`` (labels).
"""

from __future__ import annotations

import calendar
from datetime import date

from babel.dates import get_day_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from handlers.callbacks import button, button_rows, callback, parse_int

MINUTES = (0, 15, 30, 45)
MONTHS_AHEAD = 24  # the calendar does not page further than this


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


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_keyboard(
    prefix: str,
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
    noop = callback(prefix, "noop")
    title = t.format_month(year, month)
    previous = _shift(year, month, -1)
    following = _shift(year, month, 1)
    rows: list[list[InlineKeyboardButton]] = [
        [
            InlineKeyboardButton(
                "‹",
                callback_data=callback(prefix, "cal", f"{previous[0]}{previous[1]:02d}")
                if (year, month) > first
                else noop,
            ),
            InlineKeyboardButton(title, callback_data=noop),
            InlineKeyboardButton(
                "›",
                callback_data=callback(prefix, "cal", f"{following[0]}{following[1]:02d}")
                if (year, month) < last
                else noop,
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
                        str(day),
                        callback_data=callback(prefix, "day", f"{year}{month:02d}{day:02d}"),
                    )
                )
        rows.append(row)
    return InlineKeyboardMarkup([*rows, *(extra or [])])


def hour_keyboard(
    prefix: str, t: Translator, *, extra: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    hours = button_rows([button(f"{hour:02d}", prefix, "hr", hour) for hour in range(24)], 6)
    back = button(t.gettext("⬅️ Back"), prefix, "unpick")
    return InlineKeyboardMarkup([*hours, [back], *(extra or [])])


def minute_keyboard(
    prefix: str, t: Translator, hour: int, *, extra: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(
            f"{hour:02d}:{minute:02d}", callback_data=callback(prefix, "min", minute)
        )
        for minute in MINUTES
    ]
    back = InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=callback(prefix, "unpick"))
    return InlineKeyboardMarkup([row, [back], *(extra or [])])
