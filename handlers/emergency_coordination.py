"""The coordinator's side of a running mobilization: the live headcount, updates, stand-down, and
the two jobs (later waves; edits of the headcount that were held back).

```mermaid
flowchart LR
    started[Started / em.show id] --> live[Headcount message: per skill coming / needed, ETAs]
    answer[A volunteer answers] -->|claim_edit: one process, ≤ 1 edit per interval| live
    job[Edit job] -->|held-back edits| live
    waves[Wave job] -->|due, still short: claimed by number| alerts[Next wave queued, urgent]
    live -->|em.who id| who[Who is coming, with ETAs]
    live -->|em.upd id| typed[Type the update] --> coming[Queued to everyone coming]
    live -->|em.downq id| confirm{Stand down?} -->|em.down id| down[Coming + unanswered told]
    live -->|ck.open · at.list · hr.rev| records[Check-in, attendance and hours of its activity]
```

The headcount message is edited in place: every answer bumps the mobilization's
``answers_version``; the process that claims the edit (a conditional UPDATE that also holds
edits to one per ``EMERGENCY_EDIT_SECONDS``) edits it, and the edit job draws whatever was held
back, so the last answer always shows within a couple of seconds and two processes never edit
the same version twice (like the check-in display's rotation, :mod:`handlers.checkin_display`).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.context import HandlerSink, ZyContext, nudge_outbox
from bot.domain.checkin import CheckMode
from bot.domain.emergency import Answer, Headcount, Mobilization, MobilizationStatus
from bot.domain.flows import FlowOwner
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from handlers.emergency_buttons import MobDown, MobDownAsk, MobShow, MobUpdate, MobWho
from handlers.emergency_texts import TEXTS, banner, skill_label
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.record_buttons import AttendanceList, CheckinOpen, HoursReview
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

FLOW = "emergency_update"
ASKED_UPDATE = "update"
WHO_LIMIT = 60


def headcount_text(t: Translator, mobilization: Mobilization, count: Headcount) -> str:
    lines = [banner(t, mobilization)]
    lines.append(
        t.gettext("🏢 {organization}").format(organization=html(mobilization.organization_name))
    )
    lines.append(t.gettext("📍 {place}").format(place=html(mobilization.rally_text)))
    if mobilization.rally_at is not None:
        lines.append(
            t.gettext("🕘 At the rally point by {time}").format(
                time=t.format_clock(mobilization.rally_at)
            )
        )
    lines += ["", t.gettext("<b>Headcount</b>")]
    for need in count.needs:
        mark = "✅" if need.reached else "⏳"
        lines.append(
            t.gettext("{mark} {skill}: {coming} / {needed}").format(
                mark=mark,
                skill=skill_label(t, need.skill.value),
                coming=need.coming,
                needed=need.needed,
            )
        )
    etas = " · ".join(
        t.gettext("~{minutes} min: {n}").format(minutes=minutes, n=n)
        for minutes, n in sorted(count.by_eta.items())
        if n
    )
    lines.append("")
    coming = t.gettext("Coming: {n}").format(n=count.coming)
    # TRANSLATORS: "Coming: 7" and the arrival estimates, e.g. "~15 min: 3 · ~30 min: 4".
    lines.append(
        t.gettext("{coming} ({etas})").format(coming=coming, etas=etas) if etas else coming
    )
    lines.append(
        t.gettext("Can't: {cannot} · No answer yet: {waiting} · Alerted: {alerted}").format(
            cannot=count.cannot, waiting=count.waiting, alerted=count.alerted
        )
    )
    lines.append(
        t.gettext("Wave {wave}, within {km} km").format(
            wave=mobilization.wave, km=t.format_number(round(mobilization.radius_km, 1))
        )
    )
    if mobilization.status is MobilizationStatus.STOOD_DOWN:
        ended = mobilization.ended_at
        lines += [
            "",
            t.gettext("🛑 Stood down at {time}.").format(time=t.format_clock(ended))
            if ended is not None
            else t.gettext("🛑 Stood down."),
        ]
    elif count.reached:
        lines += ["", t.gettext("🎯 Target reached: no further waves go out.")]
    return "\n".join(lines)


def headcount_keyboard(t: Translator, mobilization: Mobilization) -> InlineKeyboardMarkup:
    mid = mobilization.mobilization_id
    rows: list[list[InlineKeyboardButton]] = [[MobWho(mid).button(t.gettext("👥 Who is coming"))]]
    active = mobilization.status is MobilizationStatus.ACTIVE
    if active:
        rows[0].append(MobUpdate(mid).button(t.gettext("📢 Send an update")))
    aid = mobilization.activity_id
    if aid is not None:
        record_row = [AttendanceList(aid, 0).button(t.gettext("🙋 Attendance"))]
        if active:
            record_row.insert(0, CheckinOpen(aid, CheckMode.IN).button(t.gettext("📲 Check-in")))
        record_row.append(HoursReview(aid, 0).button(t.gettext("🕒 Hours")))
        rows.append(record_row)
    if active:
        rows.append([MobDownAsk(mid).button(t.gettext("🛑 Stand down"))])
    return InlineKeyboardMarkup(rows)


async def _render(
    context: ZyContext, mobilization: Mobilization, t: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    count = await context.services.emergency.headcount(mobilization)
    return headcount_text(t, mobilization, count), headcount_keyboard(t, mobilization)


async def send_headcount(update: Update, context: ZyContext, mobilization_id: int) -> None:
    """Send the live headcount as a new message; the edits follow it from now on."""
    svc = context.services.emergency
    mobilization = await svc.coordinate(context.user.telegram_id, mobilization_id)
    text, markup = await _render(context, mobilization, context.t)
    chat = update.effective_chat
    if chat is None:
        return
    sent = await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    await svc.place_message(mobilization_id, sent.chat_id, sent.message_id)


async def _translator_for_chat(context: ZyContext, chat_id: int) -> Translator:
    services = context.services
    user = await services.accounts.get(chat_id) if chat_id > 0 else None
    if user is None:
        return services.translator(services.settings.default_language)
    return services.translator(services.accounts.language_of(user))


async def refresh_headcount(context: ZyContext, mobilization_id: int) -> bool:
    """Edit the coordinator's message if this process claims the edit; ``True`` if edited."""
    svc = context.services.emergency
    if not await svc.claim_edit(mobilization_id):
        return False
    mobilization = await svc.mobilization(mobilization_id)
    if mobilization is None or mobilization.chat_id is None or mobilization.message_id is None:
        return False
    t = await _translator_for_chat(context, mobilization.chat_id)
    text, markup = await _render(context, mobilization, t)
    try:
        await context.bot.edit_message_text(
            text,
            chat_id=mobilization.chat_id,
            message_id=mobilization.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            log.info("headcount of mobilization %s gone: %s", mobilization_id, error)
            await svc.forget_message(mobilization_id)
        return False
    except Forbidden as error:
        log.info("headcount of mobilization %s unreachable: %s", mobilization_id, error)
        await svc.forget_message(mobilization_id)
        return False
    return True


async def edit_held_back(context: ZyContext) -> None:
    """The edit job: draw the headcounts whose last answers were held back by the interval."""
    for mobilization_id in await context.services.emergency.stale_messages():
        await refresh_headcount(context, mobilization_id)


async def send_waves(context: ZyContext) -> None:
    """The wave job: later waves of the active mobilizations that are still short."""
    sent = await context.services.emergency.run_waves()
    if any(wave.alerted for wave in sent):
        nudge_outbox(context)


# ------------------------------------------------------------------------------ presses


async def on_show(update: Update, context: ZyContext, press: MobShow) -> None:
    await context.services.emergency.coordinate(context.user.telegram_id, press.mobilization_id)
    await answer(update)
    await send_headcount(update, context, press.mobilization_id)


async def on_who(update: Update, context: ZyContext, press: MobWho) -> None:
    svc = context.services.emergency
    mobilization = await svc.coordinate(context.user.telegram_id, press.mobilization_id)
    await answer(update)
    t = context.t
    alerts = await svc.alerts(press.mobilization_id)
    coming = sorted(
        (a for a in alerts if a.answer is Answer.COMING),
        key=lambda a: (a.eta_minutes or 0, a.distance_km or 0.0),
    )
    lines = [
        banner(t, mobilization),
        t.ngettext("👥 <b>{n} coming</b>", "👥 <b>{n} coming</b>", len(coming)).format(
            n=len(coming)
        ),
    ]
    for alert in coming[:WHO_LIMIT]:
        skill = skill_label(t, (alert.counted_skill or alert.skill).value)
        lines.append(
            t.gettext("• {name} — {skill}, ~{minutes} min").format(
                name=html(alert.name or t.gettext("(deleted account)")),
                skill=skill,
                minutes=alert.eta_minutes,
            )
        )
    if len(coming) > WHO_LIMIT:
        lines.append(t.gettext("… and {n} more").format(n=len(coming) - WHO_LIMIT))
    cannot = sum(1 for a in alerts if a.answer is Answer.CANNOT)
    lines.append(t.gettext("Can't come: {n}").format(n=cannot))
    await send(update, "\n".join(lines))


async def on_update(update: Update, context: ZyContext, press: MobUpdate) -> None:
    mobilization = await context.services.emergency.coordinate(
        context.user.telegram_id, press.mobilization_id
    )
    if mobilization.status is not MobilizationStatus.ACTIVE:
        await answer(
            update, context.t.gettext("This mobilization has been stood down."), alert=True
        )
        return
    await answer(update)
    await take(context, FLOW, ASKED_UPDATE, {"mobilization": press.mobilization_id})
    await send(
        update,
        context.t.gettext(
            "Type the update for everyone who is coming (up to 500 characters), or /cancel."
        ),
    )


@flow_refusing(TEXTS)
async def on_update_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    mobilization_id = owner.int_state("mobilization")
    if message is None or message.text is None or mobilization_id is None:
        return
    t = context.t
    try:
        told = await context.services.emergency.send_update(
            context.user.telegram_id, mobilization_id, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))  # the question still waits
        return
    await release(context, FLOW)
    nudge_outbox(context)
    await send(
        update,
        t.ngettext(
            "📢 Update sent to {n} person coming.", "📢 Update sent to {n} people coming.", told
        ).format(n=told),
    )


async def on_update_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, no update sent."))


async def on_down_ask(update: Update, context: ZyContext, press: MobDownAsk) -> None:
    mobilization = await context.services.emergency.coordinate(
        context.user.telegram_id, press.mobilization_id
    )
    await answer(update)
    t = context.t
    text = "\n".join(
        [
            banner(t, mobilization),
            t.gettext(
                "Stand down? Everyone coming and everyone alerted who has not answered yet is "
                "told they are not needed; alerts not sent yet are dropped."
            ),
        ]
    )
    rows = [
        [MobDown(press.mobilization_id).button(t.gettext("🛑 Yes, stand down"))],
        [MobShow(press.mobilization_id).button(t.gettext("⬅️ No, show the headcount"))],
    ]
    await send(update, text, InlineKeyboardMarkup(rows))


async def on_down(update: Update, context: ZyContext, press: MobDown) -> None:
    svc = context.services.emergency
    told = await svc.stand_down(context.user.telegram_id, press.mobilization_id)
    await answer(update)
    nudge_outbox(context)
    t = context.t
    await show(
        update,
        t.ngettext(
            "🛑 Stood down. {n} person is being told.",
            "🛑 Stood down. {n} people are being told.",
            told,
        ).format(n=told),
    )
    await refresh_headcount(context, press.mobilization_id)


FLOWS = [Flow(FLOW, on_text=on_update_text, on_cancel=on_update_cancel)]

PRESSES: PressTable = {
    MobShow: on_show,
    MobWho: on_who,
    MobUpdate: on_update,
    MobDownAsk: on_down_ask,
    MobDown: on_down,
}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
