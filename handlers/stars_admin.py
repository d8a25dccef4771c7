"""Star thresholds and publicities for administrators (``/starlevels``, or ⚙️ on ``/stars``).

```mermaid
stateDiagram-v2
    [*] --> Home: /starlevels · sa.home
    Home --> Home: sa.preset:national|beijing (100/300/600/1000/1500 · 100/200/500/800/1000)
    Home --> Typing: sa.type (flow star_thresholds takes the input)
    Typing --> Typing: unreadable (localized reason, asked again)
    Typing --> Home: "100 200 500 800 1000" saved (release)
    Typing --> Home: /cancel (release)
    Home --> Object: sa.ask:<volunteer>:<level> (a level in its publicity)
    Object --> Home: sa.obj:<volunteer>:<level>:<reason> (objected; the volunteer is told)
```

Levels are derived on every read, so saved thresholds change everyone's level at once; the
next sweep congratulates those who now reach a new level (once per level). Every press and
typed line is re-checked in :mod:`bot.services.stars`: only administrators pass.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.hours import format_hours
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.stars import BEIJING_THRESHOLDS, DEFAULT_THRESHOLDS, StarRefusal
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.stars import ObjectionReason
from handlers.callbacks import Press
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS, refuse_staff

FLOW = "star_thresholds"

PRESETS: dict[str, tuple[int, ...]] = {
    "national": DEFAULT_THRESHOLDS,
    "beijing": BEIJING_THRESHOLDS,
}

OBJECTION_LABELS: dict[ObjectionReason, str] = {
    ObjectionReason.HOURS: N_("The hours are disputed"),
    ObjectionReason.CONDUCT: N_("Conduct does not fit the honour"),
    ObjectionReason.OTHER: N_("Another reason (the federation will contact you)"),
}

TEXTS = RefusalTexts(
    STAFF_REFUSALS,
    {StarRefusal.NOT_PUBLICISED: N_("This publicity is over or was objected to already.")},
)


class SaHome(Press, prefix="sa.home"):
    pass


class SaPreset(Press, prefix="sa.preset"):
    name: str


class SaType(Press, prefix="sa.type"):
    pass


class SaAsk(Press, prefix="sa.ask"):
    """Object to a publicised level: which reason?"""

    volunteer: int
    level: int


class SaObject(Press, prefix="sa.obj"):
    volunteer: int
    level: int
    reason: ObjectionReason


def _prompt(t: Translator) -> str:
    return t.gettext(
        "Type the hours needed for 1★ to 5★, five whole numbers, each more than the one before, "
        "e.g. <code>100 200 500 800 1000</code>. Send /cancel to stop."
    )


def _objection_rows(t: Translator, volunteer: int, level: int) -> list[list[InlineKeyboardButton]]:
    return [
        [SaObject(volunteer, level, reason).button("✋ " + t.gettext(label))]
        for reason, label in OBJECTION_LABELS.items()
    ]


async def show_home(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    thresholds = await services.stars.thresholds()
    publicity = await services.stars.publicity(context.user.telegram_id)
    lines = [notice, ""] if notice else []
    lines += [
        t.gettext("⭐ <b>Star thresholds</b>"),
        t.gettext("Confirmed hours needed for each level:"),
    ]
    lines += [
        t.gettext("{level}★ · {hours} h").format(level=level, hours=hours)
        for level, hours in enumerate(thresholds.hours, start=1)
    ]
    lines.append("")
    if services.stars.application:
        lines.append(
            t.gettext(
                "Levels need an application and a publicity period of {days} days "
                "(STAR_APPLICATION)."
            ).format(days=services.stars.publicity_days)
        )
    else:
        lines.append(
            t.gettext("Levels count as soon as the hours reach them (STAR_APPLICATION is off).")
        )
    rows: list[list[InlineKeyboardButton]] = [
        [SaType().button(t.gettext("✏️ Type new thresholds"))],
        [
            SaPreset("national").button("100/300/600/1000/1500"),
            SaPreset("beijing").button(t.gettext("Beijing: 100/200/500/800/1000")),
        ],
    ]
    if publicity:
        lines += ["", t.gettext("📢 <b>In publicity</b>")]
        for item in publicity:
            lines.append(
                t.gettext("{name} · {level}★ · {hours} h · until {day}").format(
                    name=html(item.name or "—"),
                    level=item.level,
                    hours=format_hours(item.minutes),
                    day=t.format_day(item.ends_at),
                )
            )
            rows.append(
                [
                    SaAsk(item.volunteer_id, item.level).button(
                        t.gettext("✋ Object: {name} {level}★").format(
                            name=item.name or "—", level=item.level
                        )
                    )
                ]
            )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_command(update: Update, context: ZyContext) -> None:
    """``/starlevels``."""
    if not await context.services.staff.is_admin(context.user.telegram_id):
        await send(update, context.t.gettext("Sorry, this is only for administrators."))
        return
    await release(context, FLOW)
    await show_home(update, context)


async def on_home(update: Update, context: ZyContext, _press: SaHome) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    await answer(update)
    await show_home(update, context)


async def on_preset(update: Update, context: ZyContext, press: SaPreset) -> None:
    hours = PRESETS.get(press.name)
    if hours is None:
        await refuse_staff(update, context)
        return
    await context.services.stars.set_preset(context.user.telegram_id, hours)
    await answer(update)
    await show_home(update, context, notice=context.t.gettext("✅ Thresholds saved."))


async def on_type(update: Update, context: ZyContext, _press: SaType) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    await take(context, FLOW, "thresholds")
    await answer(update)
    await send(update, _prompt(context.t))


async def on_ask(update: Update, context: ZyContext, press: SaAsk) -> None:
    t = context.t
    await context.services.staff.require_admin(context.user.telegram_id)
    await answer(update)
    rows = _objection_rows(t, press.volunteer, press.level)
    rows.append([SaHome().button(t.gettext("⬅️ Back"))])
    await show(
        update,
        t.gettext("Why do you object to this {level}★? The volunteer is told the reason.").format(
            level=press.level
        ),
        InlineKeyboardMarkup(rows),
    )


async def on_object(update: Update, context: ZyContext, press: SaObject) -> None:
    await context.services.stars.object(
        context.user.telegram_id, press.volunteer, press.level, press.reason
    )
    await answer(update)
    nudge_outbox(context)
    await show_home(
        update, context, notice=context.t.gettext("✋ Objected. The volunteer is told.")
    )


async def invalid(update: Update, context: ZyContext) -> None:
    await refuse_staff(update, context)


PRESSES: PressTable = {
    SaHome: on_home,
    SaPreset: on_preset,
    SaType: on_type,
    SaAsk: on_ask,
    SaObject: on_object,
}


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    try:
        await context.services.stars.set_thresholds(context.user.telegram_id, message.text)
    except InvalidInput as error:  # still waiting for the numbers
        await send(update, error.translate(t.gettext) + "\n\n" + _prompt(t))
        return
    await release(context, FLOW)
    await show_home(update, context, notice=t.gettext("✅ Thresholds saved."))


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, _prompt(context.t))


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, nothing was changed."))


FLOWS = [Flow(FLOW, on_text=on_text, on_other=on_other, on_cancel=on_cancel)]


async def render_publicity(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """STAR_PUBLICITY to each administrator; dropped once the publicity is over."""
    volunteer, level = item.payload.get("volunteer"), item.payload.get("level")
    if not isinstance(volunteer, int) or not isinstance(level, int):
        return None
    found = await services.stars.publicised(volunteer, level)
    if found is None:
        return None
    text = t.gettext(
        "📢 <b>Star level publicity</b>\n{name} applied for {level}★ with {hours} h of "
        "confirmed service. It is granted on {day} unless you object."
    ).format(
        name=html(found.name or "—"),
        level=level,
        hours=format_hours(found.minutes),
        day=t.format_day(found.ends_at),
    )
    return Rendered(text, InlineKeyboardMarkup(_objection_rows(t, volunteer, level)))


RENDERERS: Renderers = {NotificationKind.STAR_PUBLICITY: render_publicity}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("starlevels", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
