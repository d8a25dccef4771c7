"""The on-call pool (应急志愿者库): a volunteer opts in from ``/profile``.

```mermaid
flowchart LR
    profile[/profile/] -->|em.pool| screen[On-call screen]
    screen -->|em.oncall 1 / 0| screen
    screen -->|em.skill SKILL| screen
    screen -->|em.when any/day/night · em.km N| screen
    screen -->|em.areas| districts[Districts] -->|em.area CODE| screen
    screen -->|em.pin| pin[Send a map pin] -->|location| screen
    screen -->|em.pinx| screen
```

Every answer is stored as soon as it is pressed (one screen, no form). The pin is optional:
without it, the centre of the district stands in when alerts are ordered nearest first.
"""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.context import HandlerSink, ZyContext
from bot.domain.emergency import (
    AVAILABILITY_LABELS,
    TRAVEL_CHOICES,
    EmergencySkill,
    PoolEntry,
)
from bot.domain.flows import FlowOwner
from bot.domain.geo import Point
from bot.i18n import N_, Translator
from handlers.callbacks import button_rows
from handlers.emergency_buttons import (
    PoolArea,
    PoolAreas,
    PoolKm,
    PoolOnCall,
    PoolPin,
    PoolPinClear,
    PoolShow,
    PoolSkill,
    PoolWhen,
)
from handlers.emergency_texts import TEXTS, skill_label
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.profile import ProfShow
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

FLOW = "emergency_pool"
ASKED_PIN = "pin"


async def pool_text(t: Translator, entry: PoolEntry, context: ZyContext) -> str:
    areas = {area.code: area for area in await context.services.catalog.areas()}
    area = areas.get(entry.area_code or "")
    skills = ", ".join(
        skill_label(t, skill.value) for skill in EmergencySkill if skill in entry.skills
    )
    lines = [t.gettext("🚨 <b>Emergency on-call</b>"), ""]
    if entry.on_call:
        lines.append(t.gettext("✅ You are on call."))
    else:
        lines.append(t.gettext("⏸ You are not on call."))
    lines += [
        t.gettext(
            "When an emergency needs people with your skills near you, you get an urgent alert — "
            "even during your quiet hours — and answer whether you can come. Drills are always "
            "labelled as drills."
        ),
        "",
        t.labelled(
            N_("Emergency skills"), html(skills) if skills else t.gettext("none chosen yet")
        ),
        t.labelled(
            N_("District"), html(area.name(t.language)) if area else t.gettext("not chosen yet")
        ),
        t.labelled(N_("When I can be called"), t.gettext(AVAILABILITY_LABELS[entry.availability])),
        t.labelled(N_("How far I would travel"), t.gettext("{km} km").format(km=entry.max_km)),
        t.labelled(
            N_("Where I usually am"),
            t.gettext("a shared map pin")
            if entry.has_pin
            else t.gettext("the centre of my district"),
        ),
    ]
    return "\n".join(lines)


def pool_keyboard(t: Translator, entry: PoolEntry) -> InlineKeyboardMarkup:
    toggle = (
        PoolOnCall(False).button(t.gettext("⏸ Leave the on-call pool"))
        if entry.on_call
        else PoolOnCall(True).button(t.gettext("✅ Join the on-call pool"))
    )
    skills = [
        PoolSkill(skill).button(
            ("✅ " if skill in entry.skills else "▫️ ") + skill_label(t, skill.value)
        )
        for skill in EmergencySkill
    ]
    when = [
        PoolWhen(availability).button(
            ("✓ " if availability is entry.availability else "") + t.gettext(label)
        )
        for availability, label in AVAILABILITY_LABELS.items()
    ]
    km = [
        PoolKm(choice).button(
            ("✓ " if choice == entry.max_km else "") + t.gettext("{km} km").format(km=choice)
        )
        for choice in TRAVEL_CHOICES
    ]
    pin_row = [PoolPin().button(t.gettext("📍 Share where I usually am"))]
    if entry.has_pin:
        pin_row.append(PoolPinClear().button(t.gettext("🗑 Forget my pin")))
    rows: list[list[InlineKeyboardButton]] = [[toggle], *button_rows(skills, 2)]
    rows += [
        [PoolAreas().button(t.gettext("🗺 District"))],
        when,
        km,
        pin_row,
        [ProfShow().button(t.gettext("⬅️ Back to my profile"))],
    ]
    return InlineKeyboardMarkup(rows)


async def show_pool(update: Update, context: ZyContext, entry: PoolEntry | None = None) -> None:
    if entry is None:
        entry = await context.services.emergency.pool(context.user.telegram_id)
    t = context.t
    await show(update, await pool_text(t, entry, context), pool_keyboard(t, entry))


async def on_show(update: Update, context: ZyContext, press: PoolShow) -> None:
    entry = await context.services.emergency.pool(context.user.telegram_id)
    await answer(update)
    await show_pool(update, context, entry)


async def on_call(update: Update, context: ZyContext, press: PoolOnCall) -> None:
    entry = await context.services.emergency.set_on_call(context.user.telegram_id, press.on)
    t = context.t
    await answer(
        update,
        t.gettext("You are on call.") if press.on else t.gettext("You left the on-call pool."),
    )
    await show_pool(update, context, entry)


async def on_skill(update: Update, context: ZyContext, press: PoolSkill) -> None:
    entry = await context.services.emergency.toggle_skill(context.user.telegram_id, press.skill)
    await answer(update)
    await show_pool(update, context, entry)


async def on_areas(update: Update, context: ZyContext, press: PoolAreas) -> None:
    await context.services.emergency.pool(context.user.telegram_id)  # volunteers only
    await answer(update)
    t = context.t
    buttons = [
        PoolArea(area.code).button(area.name(t.language))
        for area in await context.services.catalog.areas()
    ]
    rows = [*button_rows(buttons, 2), [PoolShow().button(t.gettext("⬅️ Back"))]]
    await show(update, t.gettext("Which district are you usually in?"), InlineKeyboardMarkup(rows))


async def on_area(update: Update, context: ZyContext, press: PoolArea) -> None:
    entry = await context.services.emergency.set_area(context.user.telegram_id, press.code)
    await answer(update)
    await show_pool(update, context, entry)


async def on_when(update: Update, context: ZyContext, press: PoolWhen) -> None:
    entry = await context.services.emergency.set_availability(
        context.user.telegram_id, press.availability
    )
    await answer(update)
    await show_pool(update, context, entry)


async def on_km(update: Update, context: ZyContext, press: PoolKm) -> None:
    entry = await context.services.emergency.set_max_km(context.user.telegram_id, press.km)
    await answer(update)
    await show_pool(update, context, entry)


async def on_pin(update: Update, context: ZyContext, press: PoolPin) -> None:
    await context.services.emergency.pool(context.user.telegram_id)  # volunteers only
    await answer(update)
    t = context.t
    # Taken before the question is shown, so a restart in between loses nothing.
    await take(context, FLOW, ASKED_PIN)
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton(t.gettext("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await send(
        update,
        t.gettext(
            "Send the place where you usually are (home or work) as a map pin: the button below "
            "shares where you are now, or 📎 → Location picks any place. Only distances to an "
            "emergency are computed from it; nobody sees it. /cancel keeps things as they are."
        ),
        markup,
    )


async def on_pin_clear(update: Update, context: ZyContext, press: PoolPinClear) -> None:
    entry = await context.services.emergency.set_pin(context.user.telegram_id, None)
    await answer(update)
    await show_pool(update, context, entry)


@flow_refusing(TEXTS)
async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    where = Point(message.location.latitude, message.location.longitude)
    entry = await context.services.emergency.set_pin(context.user.telegram_id, where)
    await release(context, FLOW)
    t = context.t
    await send(update, t.gettext("📍 Saved."), ReplyKeyboardRemove())
    await send(update, await pool_text(t, entry, context), pool_keyboard(t, entry))


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please send a map pin, or /cancel."))


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, nothing changed."), ReplyKeyboardRemove())


FLOWS = [
    Flow(FLOW, on_text=on_text, on_location=on_location, on_cancel=on_cancel, on_other=on_text)
]

PRESSES: PressTable = {
    PoolShow: on_show,
    PoolOnCall: on_call,
    PoolSkill: on_skill,
    PoolAreas: on_areas,
    PoolArea: on_area,
    PoolWhen: on_when,
    PoolKm: on_km,
    PoolPin: on_pin,
    PoolPinClear: on_pin_clear,
}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
