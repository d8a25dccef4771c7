"""Key dates for administrators (``kd:``, from the admin panel): list, enable or disable,
rename, re-date (solar or lunar) and add.

```mermaid
stateDiagram-v2
    [*] --> List: kd:list (admin panel)
    List --> KeyDate: kd:v:code
    KeyDate --> KeyDate: kd:on:code / kd:off:code
    KeyDate --> Typing: kd:ed:code:zh|en|dt
    List --> Typing: kd:add (Chinese name → English name → date)
    Typing --> Typing: invalid text (localized error, asked again)
    Typing --> KeyDate: valid text (saved)
    Typing --> List: /cancel
```

The screens are thin: they parse the press or the typed text, call
``services.key_date_admin`` (bot/services/keydate_admin.py) and render. That service re-checks on
the server that the presser is an administrator, validates, writes and logs; its errors map to
short localized answers here (a forged or stale ``kd:`` press gets a refusal and changes
nothing). The half-typed key date lives in ``key_date_drafts`` (survives restarts, written
only through the service); the ``key_dates`` flow (:mod:`handlers.flows`) owns the typed input
while it waits (Typing above). The campaigns these dates drive are :mod:`handlers.campaigns`.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Services, ZyContext
from bot.domain.flows import FlowOwner
from bot.domain.keydates import KeyDate, KeyDateDraft, occurrences_between
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from bot.services.keydate_admin import (
    MAX_NAME_LENGTH,
    InvalidKeyDay,
    KeyDateNotAdded,
    KeyDateNotFound,
    clean_name,
)
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.activity_view import (
    clip,
)
from handlers.callbacks import callback, split
from handlers.flows import Flow, release, take
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff, staff_refusal_text

log = logging.getLogger(__name__)

FIELD_ZH, FIELD_EN, FIELD_DATE = "zh", "en", "dt"
_FIELDS = (FIELD_ZH, FIELD_EN, FIELD_DATE)

# "12-5", "12.5", "12·5", "12/5", "12月5日"; lunar with a 农历 / 阴历 / lunar / L prefix.
_DATE_INPUT = re.compile(
    r"^(?:(农历|阴历|lunar|l)\s*)?(\d{1,2})\s*(?:[-./·]|月)\s*(\d{1,2})\s*日?$", re.IGNORECASE
)


# ------------------------------------------------------------------------------------- helpers


def today_of(services: Services) -> date:
    return services.clock().astimezone(services.settings.tz).date()


def _next_day(key_date: KeyDate, today: date) -> date | None:
    found = occurrences_between(key_date, today, today + timedelta(days=400))
    return found[0] if found else None


def day_text(t: Translator, day: date) -> str:
    return t.format_day(day)


def _rule_text(t: Translator, key_date: KeyDate) -> str:
    if key_date.is_lunar:
        return t.gettext("lunar {month}-{day}").format(month=key_date.month, day=key_date.day)
    return t.gettext("{month}-{day}").format(month=key_date.month, day=key_date.day)


def days_until_text(t: Translator, days: int) -> str:
    if days <= 0:
        return t.gettext("today")
    if days == 1:
        return t.gettext("tomorrow")
    return t.ngettext("in {n} day", "in {n} days", days).format(n=days)


def parse_day(text: str) -> tuple[int, int, bool] | None:
    """(month, day, lunar) from typed text, or ``None`` when it does not look like a day.
    Whether that day exists (2-30 does not) is the service's check."""
    found = _DATE_INPUT.match(text.strip())
    if found is None:
        return None
    return int(found.group(2)), int(found.group(3)), found.group(1) is not None


async def _is_admin(update: Update, context: ZyContext) -> bool:
    try:
        await context.services.staff.require_admin(context.user.telegram_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return False
    return True


def _code_of(update: Update) -> tuple[list[str], str]:
    """The callback data's parts and the key-date code in it (``kd:<action>:<code>…``)."""
    parts = split(update.callback_query.data if update.callback_query else None)
    return parts, parts[2] if len(parts) > 2 else ""


async def _gone_press(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This key date no longer exists."))
    await show_list(update, context)


# ------------------------------------------------------------------------------------- screens


async def show_list(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    language = t.language.value
    today = today_of(services)
    lines = [notice, ""] if notice else []
    lines.append(t.gettext("🗓 <b>Key dates</b>"))
    lines.append(
        t.gettext(
            "Organizers hear about each one {days} days ahead; volunteers who opted in get "
            "campaign messages before it and a greeting on the day."
        ).format(days=services.campaigns.policy.heads_up.days)
    )
    lines.append("")
    rows: list[list[InlineKeyboardButton]] = []
    key_dates = await services.key_dates.all()
    dated = sorted(
        ((_next_day(key_date, today), key_date) for key_date in key_dates),
        key=lambda pair: (pair[0] or date.max, pair[1].code),
    )
    for day, key_date in dated:
        mark = "✅" if key_date.is_enabled else "🚫"
        next_text = day_text(t, day) if day else "—"
        lines.append(
            t.gettext("{mark} <b>{name}</b> ({rule}) · next: {day}").format(
                mark=mark,
                name=html(key_date.name(language)),
                rule=_rule_text(t, key_date),
                day=next_text,
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    f"{mark} {clip(key_date.name(language))}",
                    callback_data=callback("kd", "v", key_date.code),
                )
            ]
        )
    rows.append(
        [InlineKeyboardButton(t.gettext("➕ Add a key date"), callback_data=callback("kd", "add"))]
    )
    rows.append(
        [InlineKeyboardButton(t.gettext("🏠 Main menu"), callback_data=callback("menu", "home"))]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_key_date(
    update: Update, context: ZyContext, key_date: KeyDate, notice: str | None = None
) -> None:
    t = context.t
    day = _next_day(key_date, today_of(context.services))
    lines = [notice, ""] if notice else []
    lines += [
        f"🗓 <b>{html(key_date.name(t.language.value))}</b>",
        t.gettext("Chinese name: {name}").format(name=html(key_date.name_zh)),
        t.gettext("English name: {name}").format(name=html(key_date.name_en)),
        t.gettext("Date: {rule}").format(rule=_rule_text(t, key_date)),
        t.gettext("Next: {day}").format(day=day_text(t, day) if day else "—"),
        t.gettext("Status: {status}").format(
            status=t.gettext("enabled") if key_date.is_enabled else t.gettext("disabled")
        ),
    ]
    if key_date.builtin:
        lines.append(t.gettext("Built in: it can be disabled, not deleted."))
    code = key_date.code
    toggle = (
        InlineKeyboardButton(t.gettext("🚫 Disable"), callback_data=callback("kd", "off", code))
        if key_date.is_enabled
        else InlineKeyboardButton(t.gettext("✅ Enable"), callback_data=callback("kd", "on", code))
    )
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("✏️ Chinese name"), callback_data=callback("kd", "ed", code, FIELD_ZH)
            ),
            InlineKeyboardButton(
                t.gettext("✏️ English name"), callback_data=callback("kd", "ed", code, FIELD_EN)
            ),
        ],
        [
            InlineKeyboardButton(
                t.gettext("✏️ Date"), callback_data=callback("kd", "ed", code, FIELD_DATE)
            ),
            toggle,
        ],
        [InlineKeyboardButton(t.gettext("⬅️ Key dates"), callback_data=callback("kd", "list"))],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


def _prompt(t: Translator, field: str) -> str:
    if field == FIELD_ZH:
        return t.gettext(
            "Type the key date's Chinese name (up to {limit} characters), e.g. 植树节. "
            "Send /cancel to stop."
        ).format(limit=MAX_NAME_LENGTH)
    if field == FIELD_EN:
        return t.gettext(
            "Type the key date's English name (up to {limit} characters), e.g. Arbor Day. "
            "Send /cancel to stop."
        ).format(limit=MAX_NAME_LENGTH)
    return t.gettext(
        "Type the date as month-day, e.g. 3-12. For a lunar date put “lunar” or 农历 in "
        "front, e.g. lunar 9-9. Send /cancel to stop."
    )


# ---------------------------------------------------------------------------------- callbacks


async def on_list(update: Update, context: ZyContext) -> None:
    if not await _is_admin(update, context):
        return
    await answer(update)
    await show_list(update, context)


async def _key_date_from(update: Update, context: ZyContext, code: str) -> KeyDate | None:
    """The key date, or ``None`` after answering the press (refused, or no longer there)."""
    try:
        return await context.services.key_date_admin.get(context.user.telegram_id, code)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
    except KeyDateNotFound:
        await _gone_press(update, context)
    return None


async def on_view(update: Update, context: ZyContext) -> None:
    _parts, code = _code_of(update)
    key_date = await _key_date_from(update, context, code)
    if key_date is None:
        return
    await answer(update)
    await show_key_date(update, context, key_date)


async def on_toggle(update: Update, context: ZyContext) -> None:
    """``kd:on:<code>`` / ``kd:off:<code>``."""
    parts, code = _code_of(update)
    enable = parts[1] == "on"
    try:
        key_date = await context.services.key_date_admin.set_enabled(
            context.user.telegram_id, code, enable
        )
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return
    except KeyDateNotFound:
        await _gone_press(update, context)
        return
    t = context.t
    await answer(update)
    notice = (
        t.gettext("✅ Enabled: campaigns will run for it.")
        if enable
        else t.gettext("🚫 Disabled: no more campaign messages for it.")
    )
    await show_key_date(update, context, key_date, notice=notice)


async def on_add(update: Update, context: ZyContext) -> object:
    if not await _is_admin(update, context):
        return None
    await context.services.key_date_admin.save_draft(
        context.user.telegram_id, None, FIELD_ZH, None, None
    )
    await take(context, KEY_DATES_FLOW, FIELD_ZH)
    await answer(update)
    await show(update, _prompt(context.t, FIELD_ZH))
    return None


async def on_edit(update: Update, context: ZyContext) -> object:
    """``kd:ed:<code>:<field>``: wait for the new value."""
    parts, code = _code_of(update)
    field = parts[3] if len(parts) > 3 else ""
    key_date = await _key_date_from(update, context, code)
    if key_date is None:
        return None
    if field not in _FIELDS:
        await answer(update, context.t.gettext("This button is no longer valid."))
        return None
    await context.services.key_date_admin.save_draft(
        context.user.telegram_id, key_date.code, field, key_date.name_zh, key_date.name_en
    )
    await take(context, KEY_DATES_FLOW, field)
    await answer(update)
    await show(update, _prompt(context.t, field))
    return None


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    t = context.t
    services = context.services
    actor = context.user.telegram_id
    message = update.effective_message
    if message is None or message.text is None:
        return None
    if not await services.staff.is_admin(actor):
        # No longer an administrator: drop the draft (the service would refuse the save anyway).
        log.warning("key-date input refused: user %s is not an administrator", actor)
        await _finish(context)
        await send(update, staff_refusal_text(t, StaffRefusal.NOT_ALLOWED))
        return None
    draft = await services.key_date_admin.draft(actor)
    if draft is None:
        await release(context, KEY_DATES_FLOW)
        await send(update, t.gettext("Nothing is being edited. Open /admin again."))
        return None
    try:
        return await _apply(update, context, draft, message.text)
    except InvalidInput as error:  # a name too long, empty, several lines …
        await send(update, f"{error.translate(t.gettext)}\n\n{_prompt(t, draft.field)}")
        return None
    except InvalidKeyDay:
        return await _not_a_day(update, t)
    except KeyDateNotFound:
        return await _gone(update, context)
    except KeyDateNotAdded:
        # Nothing was written; the draft stays at the date step so sending it again retries.
        await send(
            update,
            t.gettext("The key date could not be saved. Send the date again to retry, or /cancel."),
        )
        return None
    except StaffRefused as error:
        await _finish(context)
        await refuse_staff(update, context, error)
        return None


async def _apply(update: Update, context: ZyContext, draft: KeyDateDraft, text: str) -> object:
    """One typed answer: the next step of adding, or the save through the service."""
    t = context.t
    services = context.services
    admin = services.key_date_admin
    actor = draft.telegram_id
    if draft.field in (FIELD_ZH, FIELD_EN):
        name = clean_name(text)
        if draft.code is None:  # adding: Chinese name → English name → date
            name_zh = name if draft.field == FIELD_ZH else draft.name_zh
            name_en = name if draft.field == FIELD_EN else draft.name_en
            following = FIELD_EN if draft.field == FIELD_ZH else FIELD_DATE
            await admin.save_draft(actor, None, following, name_zh, name_en)
            await take(context, KEY_DATES_FLOW, following)
            await send(update, _prompt(t, following))
            return None
        if draft.field == FIELD_ZH:
            key_date = await admin.rename(actor, draft.code, name_zh=name)
        else:
            key_date = await admin.rename(actor, draft.code, name_en=name)
        notice = t.gettext("✅ Name saved.")
    else:
        parsed = parse_day(text)
        if parsed is None:
            return await _not_a_day(update, t)
        month, day, lunar = parsed
        if draft.code is not None:
            key_date = await admin.set_day(actor, draft.code, month, day, lunar)
            notice = t.gettext("✅ Date saved.")
        else:
            key_date = await admin.add(
                actor, draft.name_zh or "", draft.name_en or "", month, day, lunar
            )
            notice = t.gettext("✅ Key date added.")
    await _finish(context)
    # A typed answer has no message to edit: show() sends a new one.
    await show_key_date(update, context, key_date, notice=notice)
    return None


async def _not_a_day(update: Update, t: Translator) -> object:
    await send(
        update,
        t.gettext("That is not a date that exists. {prompt}").format(prompt=_prompt(t, FIELD_DATE)),
    )
    return None


async def _finish(context: ZyContext) -> None:
    """Done with typing: the draft goes and typed text is no longer for the key dates."""
    await context.services.key_date_admin.drop_draft(context.user.telegram_id)
    await release(context, KEY_DATES_FLOW)


async def _gone(update: Update, context: ZyContext) -> object:
    await _finish(context)
    await send(update, context.t.gettext("This key date no longer exists."))
    return None


async def on_unexpected(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """Anything but text while typing: ask again."""
    draft = await context.services.key_date_admin.draft(context.user.telegram_id)
    if draft is None:
        await release(context, KEY_DATES_FLOW)
        return None
    await send(update, _prompt(context.t, draft.field))
    return None


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    await context.services.key_date_admin.drop_draft(context.user.telegram_id)
    await send(update, context.t.gettext("OK, nothing was changed."))
    if await context.services.staff.is_admin(context.user.telegram_id):
        await show_list(update, context)
    return None


KEY_DATES_FLOW = "key_dates"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(KEY_DATES_FLOW, on_text=on_text, on_other=on_unexpected, on_cancel=on_cancel),
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_add, pattern=r"^kd:add$"))
    application.add_handler(CallbackQueryHandler(on_edit, pattern=r"^kd:ed:"))
    application.add_handler(CallbackQueryHandler(on_list, pattern=r"^kd:list$"))
    application.add_handler(CallbackQueryHandler(on_view, pattern=r"^kd:v:"))
    application.add_handler(CallbackQueryHandler(on_toggle, pattern=r"^kd:(on|off):"))
