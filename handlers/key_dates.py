"""Key dates for administrators: the list, one key date, enabling and disabling, renaming,
moving and adding one.

```mermaid
stateDiagram-v2
    [*] --> List: kd.list (admin panel)
    List --> KeyDate: kd.v:<code>
    KeyDate --> KeyDate: kd.on:<code>:<1|0> (enable / disable)
    KeyDate --> Typing: kd.ed:<code>:<zh|en|dt>
    List --> Typing: kd.add (Chinese name → English name → date)
    Typing --> Typing: invalid text (localized error, asked again)
    Typing --> KeyDate: valid text (saved; release)
    Typing --> List: /cancel (release)
```

The screens are thin: they parse the press or the typed text, call
``services.key_date_admin`` (:mod:`bot.services.keydate_admin`) and render. That service
re-checks on the server that the presser is an administrator, validates, writes and logs,
including the half-typed key date in ``key_date_drafts``; its errors map to short localized
answers here (a forged or stale ``kd.`` press gets a refusal and changes nothing). While typing,
the flow ``key_date`` owns the administrator's typed input (``flow_owners``, taken before each
question is shown), so a restart right after a question loses nothing.

A button says what it was drawn for: the key date and the field to edit, and whether it enables
or disables; pressing an old one does exactly what it said (enabling twice is harmless).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Services, ZyContext
from bot.domain.flows import FlowOwner
from bot.domain.keydates import KeyDate, occurrences_between
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from bot.services.keydate_admin import (
    MAX_NAME_LENGTH,
    InvalidKeyDay,
    KeyDateDraft,
    KeyDateNotAdded,
    KeyDateNotFound,
    clean_name,
)
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.activity_view import clip
from handlers.callbacks import MenuItem, MenuOpen, Press
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

FLOW = "key_date"


class KdField(StrEnum):
    """What is typed next."""

    ZH = "zh"
    EN = "en"
    DATE = "dt"


# "12-5", "12.5", "12·5", "12/5", "12月5日"; lunar with a 农历 / 阴历 / lunar / L prefix.
_DATE_INPUT = re.compile(
    r"^(?:(农历|阴历|lunar|l)\s*)?(\d{1,2})\s*(?:[-./·]|月)\s*(\d{1,2})\s*日?$", re.IGNORECASE
)


# ------------------------------------------------------------------------------------- buttons


class KdList(Press, prefix="kd.list"):
    pass


class KdView(Press, prefix="kd.v"):
    code: str


class KdEnable(Press, prefix="kd.on"):
    code: str
    enable: bool  # what the button said: an old Disable pressed again disables, no more


class KdEdit(Press, prefix="kd.ed"):
    code: str
    field: KdField


class KdAdd(Press, prefix="kd.add"):
    pass


# ------------------------------------------------------------------------------------- helpers


def local_today(services: Services) -> date:
    return services.clock().astimezone(services.settings.tz).date()


def day_text(t: Translator, day: date) -> str:
    """ "Sat, Dec 5, 2026" / "2026年12月5日（周六）": key dates are told with their year."""
    return t.format_day(day, year=True)


def _next_day(key_date: KeyDate, today: date) -> date | None:
    found = occurrences_between(key_date, today, today + timedelta(days=400))
    return found[0] if found else None


def _rule_text(t: Translator, key_date: KeyDate) -> str:
    if key_date.is_lunar:
        return t.gettext("lunar {month}-{day}").format(month=key_date.month, day=key_date.day)
    return t.gettext("{month}-{day}").format(month=key_date.month, day=key_date.day)


def parse_day(text: str) -> tuple[int, int, bool] | None:
    """(month, day, lunar) from typed text, or ``None`` when it does not look like a day.
    Whether that day exists (2-30 does not) is the service's check."""
    found = _DATE_INPUT.match(text.strip())
    if found is None:
        return None
    return int(found.group(2)), int(found.group(3)), found.group(1) is not None


def _prompt(t: Translator, field: str) -> str:
    if field == KdField.ZH:
        return t.gettext(
            "Type the key date's Chinese name (up to {limit} characters), e.g. 植树节. "
            "Send /cancel to stop."
        ).format(limit=MAX_NAME_LENGTH)
    if field == KdField.EN:
        return t.gettext(
            "Type the key date's English name (up to {limit} characters), e.g. Arbor Day. "
            "Send /cancel to stop."
        ).format(limit=MAX_NAME_LENGTH)
    return t.gettext(
        "Type the date as month-day, e.g. 3-12. For a lunar date put “lunar” or 农历 in "
        "front, e.g. lunar 9-9. Send /cancel to stop."
    )


# ------------------------------------------------------------------------------------- screens


async def show_list(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    language = t.language.value
    today = local_today(services)
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
    key_dates = await services.key_date_admin.all(context.user.telegram_id)
    dated = sorted(
        ((_next_day(key_date, today), key_date) for key_date in key_dates),
        key=lambda pair: (pair[0] or date.max, pair[1].code),
    )
    for day, key_date in dated:
        mark = "✅" if key_date.is_enabled else "🚫"
        lines.append(
            t.gettext("{mark} <b>{name}</b> ({rule}) · next: {day}").format(
                mark=mark,
                name=html(key_date.name(language)),
                rule=_rule_text(t, key_date),
                day=day_text(t, day) if day else "—",
            )
        )
        rows.append([KdView(key_date.code).button(f"{mark} {clip(key_date.name(language))}")])
    rows.append([KdAdd().button(t.gettext("➕ Add a key date"))])
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
            )
        ]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_key_date(
    update: Update, context: ZyContext, key_date: KeyDate, notice: str | None = None
) -> None:
    t = context.t
    day = _next_day(key_date, local_today(context.services))
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
        KdEnable(code, False).button(t.gettext("🚫 Disable"))
        if key_date.is_enabled
        else KdEnable(code, True).button(t.gettext("✅ Enable"))
    )
    rows = [
        [
            KdEdit(code, KdField.ZH).button(t.gettext("✏️ Chinese name")),
            KdEdit(code, KdField.EN).button(t.gettext("✏️ English name")),
        ],
        [KdEdit(code, KdField.DATE).button(t.gettext("✏️ Date")), toggle],
        [KdList().button(t.gettext("⬅️ Key dates"))],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def _ask(
    update: Update, context: ZyContext, draft: KeyDateDraft, notice: str | None = None
) -> None:
    """The flow owns the next typed input, then the question is shown."""
    await take(context, FLOW, draft.field, {"code": draft.code})
    text = _prompt(context.t, draft.field)
    await send(update, f"{notice}\n\n{text}" if notice else text)


# ------------------------------------------------------------------------------------- presses


async def on_list(update: Update, context: ZyContext, _press: KdList) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    await answer(update)
    await show_list(update, context)


async def on_view(update: Update, context: ZyContext, press: KdView) -> None:
    key_date = await context.services.key_date_admin.get(context.user.telegram_id, press.code)
    await answer(update)
    await show_key_date(update, context, key_date)


async def on_enable(update: Update, context: ZyContext, press: KdEnable) -> None:
    key_date = await context.services.key_date_admin.set_enabled(
        context.user.telegram_id, press.code, press.enable
    )
    t = context.t
    await answer(update)
    notice = (
        t.gettext("✅ Enabled: campaigns will run for it.")
        if press.enable
        else t.gettext("🚫 Disabled: no more campaign messages for it.")
    )
    await show_key_date(update, context, key_date, notice=notice)


async def on_add(update: Update, context: ZyContext, _press: KdAdd) -> None:
    draft = await context.services.key_date_admin.start_draft(
        context.user.telegram_id, None, KdField.ZH
    )
    await answer(update)
    await _ask(update, context, draft)


async def on_edit(update: Update, context: ZyContext, press: KdEdit) -> None:
    """``kd.ed:<code>:<field>``: wait for the new value of that field of that key date."""
    draft = await context.services.key_date_admin.start_draft(
        context.user.telegram_id, press.code, press.field
    )
    await answer(update)
    await _ask(update, context, draft)


PressFn = Callable[[Update, ZyContext, Any], Awaitable[None]]


def _gone_answered(handler: PressFn) -> PressFn:
    """A key date that vanished (a stale button, another administrator): say so, show the
    list; nothing was written."""

    async def guarded(update: Update, context: ZyContext, press: Any) -> None:
        try:
            await handler(update, context, press)
        except KeyDateNotFound:
            await answer(update, context.t.gettext("This key date no longer exists."))
            await show_list(update, context)

    return guarded


async def on_malformed(update: Update, context: ZyContext) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    raise StaffRefused(StaffRefusal.NOT_FOUND)


async def _refused(update: Update, context: ZyContext, error: Exception) -> None:
    if not isinstance(error, StaffRefused):
        raise error
    await refuse_staff(update, context, error)


PRESSES: PressTable = {
    KdList: on_list,
    KdView: _gone_answered(on_view),
    KdEnable: _gone_answered(on_enable),
    KdEdit: _gone_answered(on_edit),
    KdAdd: on_add,
}


# ------------------------------------------------------------------------------------- typing


async def on_text(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    t = context.t
    admin = context.services.key_date_admin
    actor = context.user.telegram_id
    message = update.effective_message
    if message is None or message.text is None:
        return
    try:
        draft = await admin.draft(actor)
    except StaffRefused as error:
        # No longer an administrator: drop the draft (the service would refuse the save anyway).
        log.warning("key-date input refused: user %s is not an administrator", actor)
        await _stop(context)
        await refuse_staff(update, context, error)
        return
    if draft is None:
        await release(context, FLOW)
        await send(update, t.gettext("Nothing is being edited. Open /admin again."))
        return
    try:
        await _apply(update, context, draft, message.text)
    except InvalidInput as error:  # a name too long, empty, several lines …
        await _ask(update, context, draft, notice=error.translate(t.gettext))
    except InvalidKeyDay:
        await _not_a_day(update, context, draft)
    except KeyDateNotFound:
        await _stop(context)
        await send(update, t.gettext("This key date no longer exists."))
    except KeyDateNotAdded:
        # Nothing was written; the draft stays at the date step so sending it again retries.
        await send(
            update,
            t.gettext("The key date could not be saved. Send the date again to retry, or /cancel."),
        )
    except StaffRefused as error:
        await _stop(context)
        await refuse_staff(update, context, error)


async def _apply(update: Update, context: ZyContext, draft: KeyDateDraft, text: str) -> None:
    """One typed answer: the next step of adding, or the save through the service."""
    t = context.t
    admin = context.services.key_date_admin
    actor = draft.telegram_id
    if draft.field in (KdField.ZH, KdField.EN):
        name = clean_name(text)
        if draft.code is None:  # adding: Chinese name → English name → date
            following = await admin.next_field(
                actor,
                draft,
                KdField.EN if draft.field == KdField.ZH else KdField.DATE,
                name_zh=name if draft.field == KdField.ZH else draft.name_zh,
                name_en=name if draft.field == KdField.EN else draft.name_en,
            )
            await _ask(update, context, following)
            return
        if draft.field == KdField.ZH:
            key_date = await admin.rename(actor, draft.code, name_zh=name)
        else:
            key_date = await admin.rename(actor, draft.code, name_en=name)
        notice = t.gettext("✅ Name saved.")
    else:
        parsed = parse_day(text)
        if parsed is None:
            await _not_a_day(update, context, draft)
            return
        month, day, lunar = parsed
        if draft.code is not None:
            key_date = await admin.set_day(actor, draft.code, month, day, lunar)
            notice = t.gettext("✅ Date saved.")
        else:
            key_date = await admin.add(
                actor, draft.name_zh or "", draft.name_en or "", month, day, lunar
            )
            notice = t.gettext("✅ Key date added.")
    await _stop(context)
    # A typed answer has no message to edit: show() sends a new one.
    await show_key_date(update, context, key_date, notice=notice)


async def _not_a_day(update: Update, context: ZyContext, draft: KeyDateDraft) -> None:
    t = context.t
    await take(context, FLOW, draft.field, {"code": draft.code})
    await send(
        update,
        t.gettext("That is not a date that exists. {prompt}").format(
            prompt=_prompt(t, KdField.DATE)
        ),
    )


async def _stop(context: ZyContext) -> None:
    await context.services.key_date_admin.drop_draft(context.user.telegram_id)
    await release(context, FLOW)


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    """Anything but text while typing: ask again."""
    await send(update, _prompt(context.t, owner.waiting_for))


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await context.services.key_date_admin.drop_draft(context.user.telegram_id)
    await send(update, context.t.gettext("OK, nothing was changed."))
    if await context.services.staff.is_admin(context.user.telegram_id):
        await show_list(update, context)


FLOWS = [Flow(FLOW, on_text=on_text, on_other=on_other, on_cancel=on_cancel)]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, invalid=on_malformed, on_refused=_refused, prefix="kd"
    ):
        application.add_handler(handler, group)
