"""The volunteer's side of a mobilization: the urgent alert, the answer, updates, the stand-down.

```mermaid
flowchart LR
    alert[Alert, urgent: past quiet hours, paced] -->|em.ans id 15/30/60| coming[Expected + pin]
    alert -->|em.ans id 0| cannot[Not coming]
    coming -->|em.ans id 0 / other ETA| cannot
    cannot -->|em.ans id 15/30/60| coming
    coming -.->|coordinator| update[📢 Update]
    coming & alert -.->|coordinator| down[🛑 Stood down]
    coming -->|at the rally point| checkin[Check-in by the coordinator's code → hours]
```

The answer is the presser's own: the service looks up *their* alert for the mobilization the
button names, so a button of someone else's alert, or of a mobilization they were not alerted
for, is refused. Every message starts with the drill or emergency banner
(:func:`handlers.emergency_texts.banner`). An alert still unsent when the mobilization is stood
down renders as stale and is dropped.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext
from bot.delivery import Rendered
from bot.domain.emergency import ETA_CHOICES, Answer, Mobilization, MobilizationStatus
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import Translator
from bot.services.emergency import Answered
from handlers.emergency_buttons import AlertAnswer
from handlers.emergency_coordination import refresh_headcount
from handlers.emergency_texts import TEXTS, banner, skill_label
from handlers.press_table import PressTable, press_handlers
from handlers.render import answer, html, show

log = logging.getLogger(__name__)


def _needs_line(t: Translator, mobilization: Mobilization) -> str:
    needs = " · ".join(
        t.gettext("{skill} ×{n}").format(skill=skill_label(t, need.skill.value), n=need.needed)
        for need in mobilization.needs
    )
    return t.gettext("Needed: {needs}").format(needs=needs)


def _place_lines(t: Translator, answered: Answered) -> list[str]:
    mobilization, alert = answered.mobilization, answered.alert
    lines = [t.gettext("📍 Rally point: {place}").format(place=html(mobilization.rally_text))]
    if alert.distance_km is not None:
        lines.append(
            t.gettext("About {km} km from where you usually are.").format(
                km=t.format_number(round(alert.distance_km, 1))
            )
        )
    if mobilization.rally_at is not None:
        lines.append(
            t.gettext("🕘 Be there by {time}.").format(time=t.format_clock(mobilization.rally_at))
        )
    return lines


def eta_buttons(
    t: Translator, mobilization_id: int, chosen: int | None
) -> list[InlineKeyboardButton]:
    return [
        AlertAnswer(mobilization_id, minutes).button(
            ("✓ " if minutes == chosen else "✅ ")
            + t.gettext("I can come: ~{minutes} min").format(minutes=minutes)
        )
        for minutes in ETA_CHOICES
    ]


def alert_text(t: Translator, answered: Answered) -> str:
    mobilization = answered.mobilization
    lines = [
        banner(t, mobilization),
        t.gettext("<b>{organization}</b> needs people with your skills.").format(
            organization=html(mobilization.organization_name)
        ),
        _needs_line(t, mobilization),
        t.gettext("You are asked as: {skill}").format(
            skill=skill_label(t, answered.alert.skill.value)
        ),
        *_place_lines(t, answered),
        "",
        t.gettext("<b>Can you come?</b>"),
    ]
    return "\n".join(lines)


def alert_keyboard(t: Translator, mobilization_id: int) -> InlineKeyboardMarkup:
    rows = [[button] for button in eta_buttons(t, mobilization_id, None)]
    rows.append([AlertAnswer(mobilization_id, 0).button(t.gettext("❌ Can't come"))])
    return InlineKeyboardMarkup(rows)


def answered_screen(t: Translator, answered: Answered) -> tuple[str, InlineKeyboardMarkup]:
    mobilization, alert = answered.mobilization, answered.alert
    mid = mobilization.mobilization_id
    lines = [banner(t, mobilization)]
    if alert.answer is Answer.COMING:
        lines.append(
            t.gettext("✅ Thank you! You are expected in about {minutes} minutes.").format(
                minutes=alert.eta_minutes
            )
        )
        lines += _place_lines(t, answered)
        lines += [
            "",
            t.gettext(
                "At the rally point, check in: scan the coordinator's QR code or send its six "
                "digits to this bot. Your hours are recorded."
            ),
        ]
        rows = [[b] for b in eta_buttons(t, mid, alert.eta_minutes)]
        rows.append([AlertAnswer(mid, 0).button(t.gettext("❌ I can't come after all"))])
    else:
        lines.append(t.gettext("Thank you for answering. You are not counted as coming."))
        lines.append(t.gettext("If that changes, you can still say yes:"))
        rows = [[b] for b in eta_buttons(t, mid, None)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def on_answer(update: Update, context: ZyContext, press: AlertAnswer) -> None:
    svc = context.services.emergency
    eta = press.eta if press.eta else None
    answered = await svc.answer(context.user.telegram_id, press.mobilization_id, eta)
    t = context.t
    coming = answered.alert.answer is Answer.COMING
    await answer(update, t.gettext("Thank you!") if coming else t.gettext("Noted."))
    text, markup = answered_screen(t, answered)
    await show(update, text, markup)
    mobilization = answered.mobilization
    chat = update.effective_chat
    placed = mobilization.latitude is not None and mobilization.longitude is not None
    if coming and not answered.was_coming and chat is not None and placed:
        # The rally point on a map, once, when they first say yes.
        assert mobilization.latitude is not None and mobilization.longitude is not None
        await chat.send_location(mobilization.latitude, mobilization.longitude)
    await refresh_headcount(context, press.mobilization_id)


# ------------------------------------------------------------------------------ renderers


async def render_alert(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    mobilization_id = item.payload.get("mobilization_id")
    volunteer_id = item.payload.get("volunteer_id")
    if not isinstance(mobilization_id, int) or not isinstance(volunteer_id, int):
        return None
    answered = await services.emergency.alert_for(mobilization_id, volunteer_id)
    if answered is None or answered.mobilization.status is not MobilizationStatus.ACTIVE:
        return None  # stood down before it went out: never alert for nothing

    async def delivered() -> None:
        await services.emergency.delivered(mobilization_id, volunteer_id)

    return Rendered(
        alert_text(t, answered), alert_keyboard(t, mobilization_id), after_sent=delivered
    )


async def render_update(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    mobilization_id = item.payload.get("mobilization_id")
    update_id = item.payload.get("update_id")
    if not isinstance(mobilization_id, int) or not isinstance(update_id, int):
        return None
    mobilization = await services.emergency.mobilization(mobilization_id)
    text = await services.emergency.update_text(mobilization_id, update_id)
    if mobilization is None or text is None:
        return None
    if mobilization.status is not MobilizationStatus.ACTIVE:
        return None  # stood down meanwhile: the stand-down says what matters
    lines = [
        banner(t, mobilization),
        t.gettext("📢 <b>Update from the coordinator:</b>"),
        html(text),
    ]
    return Rendered("\n".join(lines))


async def render_stand_down(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    mobilization_id = item.payload.get("mobilization_id")
    if not isinstance(mobilization_id, int):
        return None
    mobilization = await services.emergency.mobilization(mobilization_id)
    if mobilization is None:
        return None
    lines = [
        banner(t, mobilization),
        t.gettext(
            "🛑 <b>Stand down.</b> You are not needed any more. If you are on the way, you may "
            "turn back. Thank you for being ready to help!"
        ),
    ]
    return Rendered("\n".join(lines))


RENDERERS: Renderers = {
    NotificationKind.EMERGENCY_ALERT: render_alert,
    NotificationKind.EMERGENCY_UPDATE: render_update,
    NotificationKind.EMERGENCY_STAND_DOWN: render_stand_down,
}

PRESSES: PressTable = {AlertAnswer: on_answer}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
