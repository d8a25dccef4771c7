"""Star levels for volunteers: ``/stars`` (the level, the hours to the next, applying when levels
need an application), the congratulations, and the job that turns confirmed hours into points
and levels.

```mermaid
flowchart LR
    C[hours confirmed or a correction approved] -->|at once, after the commit| P[(ledger)]
    C -->|at once| N
    J[job every RECOGNITION_SWEEP_SECONDS: backstop] -->|points.settle| P
    J -->|stars.sweep| N[STAR_REACHED / STAR_ELIGIBLE / STAR_GRANTED]
    N -->|rendered here| V[volunteer]
    V -->|/stars · st.show| S[standing: level, hours to next]
    S -->|st.apply:LEVEL (application mode)| PUB[publicised N days]
    S -->|⚙️ administrators| A[handlers.stars_admin]
```

Confirming hours settles them at once (:class:`bot.services.service_records.RecordsService`
calls back); the job catches what a crash between the commit and that call left. The job is
idempotent (``record_points`` and ``volunteer_stars`` are its keys), so several
bot processes may run it at once. Applying re-checks on the server that the hours reach the
level the button names; a stale or forged press is refused and changes nothing.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.hours import format_hours
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.stars import Standing, StarRefusal, stars_text
from bot.i18n import N_, Translator
from bot.services.stars import ObjectionReason
from handlers.callbacks import Press
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, show
from handlers.stars_admin import OBJECTION_LABELS, SaHome

log = logging.getLogger(__name__)


TEXTS = RefusalTexts(
    {
        StarRefusal.NOT_ELIGIBLE: N_("Your confirmed hours do not reach that level (any more)."),
        StarRefusal.NOT_PUBLICISED: N_("This publicity is over or was objected to already."),
        StarRefusal.APPLICATIONS_OFF: N_("Levels count as soon as your hours reach them."),
        StarRefusal.NOT_REGISTERED: N_("You are not registered yet. Send /register to start."),
    }
)


class StShow(Press, prefix="st.show"):
    pass


class StApply(Press, prefix="st.apply"):
    """Apply for the level the button was drawn for (re-checked against the hours)."""

    level: int


def level_name(t: Translator, level: int) -> str:
    if level == 0:
        return t.gettext("no star level yet")
    return t.gettext("{level}★ volunteer").format(level=level)


def standing_lines(t: Translator, current: Standing) -> list[str]:
    """The lines ``/profile`` and ``/stars`` show: level, hours, hours to the next level."""
    lines = [
        t.gettext("⭐ Star level: {stars} {name}").format(
            stars=stars_text(current.level), name=level_name(t, current.level)
        ),
        t.gettext("Confirmed service hours: {hours} h").format(hours=format_hours(current.minutes)),
    ]
    if current.next_level is not None and current.minutes_to_next is not None:
        if current.minutes_to_next > 0:
            lines.append(
                t.gettext("{hours} h more to {level}★").format(
                    hours=format_hours(current.minutes_to_next), level=current.next_level
                )
            )
    else:
        lines.append(t.gettext("The highest level: thank you!"))
    if current.publicised is not None and current.publicised.publicity_ends_at is not None:
        lines.append(
            t.gettext("📢 {level}★ is in its publicity period until {day}.").format(
                level=current.publicised.level,
                day=t.format_day(current.publicised.publicity_ends_at),
            )
        )
    elif current.can_apply is not None:
        lines.append(
            t.gettext("Your hours reach {level}★: apply to have it granted.").format(
                level=current.can_apply
            )
        )
    return lines


async def show_stars(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    found = await services.stars.standing(context.user.telegram_id)
    thresholds = await services.stars.thresholds()
    lines = [notice, ""] if notice else []
    lines.append(t.gettext("⭐ <b>Star levels</b>"))
    rows: list[list[InlineKeyboardButton]] = []
    if found is None:
        lines.append(t.gettext("You are not registered yet. Send /register to start."))
    else:
        _profile, current = found
        lines += standing_lines(t, current)
        if current.can_apply is not None:
            rows.append(
                [
                    StApply(current.can_apply).button(
                        t.gettext("📝 Apply for {level}★").format(level=current.can_apply)
                    )
                ]
            )
    lines += ["", t.gettext("<b>Hours needed</b>")]
    lines.append(
        " · ".join(f"{level}★ {hours} h" for level, hours in enumerate(thresholds.hours, start=1))
    )
    if services.stars.application:
        lines.append(
            t.gettext(
                "A level is granted after you apply and a publicity period of {days} days."
            ).format(days=services.stars.publicity_days)
        )
    if await services.staff.is_admin(context.user.telegram_id):
        rows.append([SaHome().button(t.gettext("⚙️ Star thresholds"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_command(update: Update, context: ZyContext) -> None:
    """``/stars``."""
    await show_stars(update, context)


async def on_show(update: Update, context: ZyContext, _press: StShow) -> None:
    await answer(update)
    await show_stars(update, context)


async def on_apply(update: Update, context: ZyContext, press: StApply) -> None:
    t = context.t
    await context.services.stars.apply(context.user.telegram_id, press.level)
    await answer(update)
    nudge_outbox(context)
    await show_stars(
        update,
        context,
        notice=t.gettext(
            "📝 Applied for {level}★. It is publicised for {days} days and then granted unless "
            "an administrator objects."
        ).format(level=press.level, days=context.services.stars.publicity_days),
    )


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {StShow: on_show, StApply: on_apply}


# ------------------------------------------------------------------------------ notifications


def _stars_button(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[StShow().button(t.gettext("⭐ My star level"))]])


async def render_reached(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    level = item.payload.get("level")
    if not isinstance(level, int):
        return None
    thresholds = await services.stars.thresholds()
    text = t.gettext(
        "🎉 <b>Congratulations!</b> Your confirmed service hours reached {hours} h: you are now "
        "a {level}★ volunteer ({stars}). Thank you for your service!"
    ).format(hours=thresholds.hours[level - 1], level=level, stars=stars_text(level))
    return Rendered(text, _stars_button(t))


async def render_eligible(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    level = item.payload.get("level")
    if not isinstance(level, int):
        return None
    text = t.gettext(
        "🎉 <b>Congratulations!</b> Your confirmed service hours reach {level}★. Apply for the "
        "level: it is publicised for {days} days and then granted."
    ).format(level=level, days=services.stars.publicity_days)
    markup = InlineKeyboardMarkup(
        [[StApply(level).button(t.gettext("📝 Apply for {level}★").format(level=level))]]
    )
    return Rendered(text, markup)


async def render_granted(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    level = item.payload.get("level")
    if not isinstance(level, int):
        return None
    text = t.gettext(
        "🎉 <b>Congratulations!</b> The publicity is over: you are now a {level}★ volunteer "
        "({stars}). Thank you for your service!"
    ).format(level=level, stars=stars_text(level))
    return Rendered(text, _stars_button(t))


async def render_objected(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    level, reason = item.payload.get("level"), item.payload.get("reason")
    if not isinstance(level, int) or not isinstance(reason, str):
        return None
    try:
        why = t.gettext(OBJECTION_LABELS[ObjectionReason(reason)])
    except ValueError:
        return None
    text = t.gettext(
        "An administrator objected to your {level}★ during its publicity: {reason}. You may "
        "apply again."
    ).format(level=level, reason=why)
    return Rendered(text, _stars_button(t))


RENDERERS: Renderers = {
    NotificationKind.STAR_REACHED: render_reached,
    NotificationKind.STAR_ELIGIBLE: render_eligible,
    NotificationKind.STAR_GRANTED: render_granted,
    NotificationKind.STAR_OBJECTED: render_objected,
}


# ------------------------------------------------------------------------------------- the job


async def sweep(context: ZyContext) -> None:
    """Confirmed hours → points (balancing transfers) → levels (congratulations)."""
    services = context.services
    settled = await services.points.settle()
    queued = await services.stars.sweep()
    if settled.records:
        log.info("points credited for %s service records", settled.records)
    if queued:
        nudge_outbox(context)


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("stars", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
