"""The organizer's check-in screen: a code and a QR image that rotate every 30 seconds.

```mermaid
flowchart LR
    card[Management card] -->|ck.open id in| display[Photo: QR of /start ck_… + code 123 456]
    display -->|every 30 s: rotation job edits the photo in place| display
    display -->|ck.open id out| outdisplay[Check-out codes]
    outdisplay -->|ck.open id in| display
    display & outdisplay -->|ck.out id| when{All out at?}
    when -->|ck.outat id minute| done[Everyone still in is checked out]
    display & outdisplay -->|ck.close id| closed[Closed]
    display -->|window ends| closed
```

The display is a photo message; the rotation job (``checkin-rotate`` in :mod:`handlers.jobs`,
every 2 s) redraws each open display when its 30-second step changes. Only the process whose
guarded UPDATE claims the step edits the message
(:meth:`~storage.attendance.AttendanceRepository.claim_rotation`), so two instances never edit
it twice. A forwarded photo carries an old link, which is refused as expired
(:mod:`bot.domain.checkin`).
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.context import HandlerSink, ZyContext
from bot.domain.checkin import (
    CheckMode,
    code_for,
    link_token_for,
    shown_code,
    step_at,
)
from bot.domain.deeplinks import checkin_payload
from bot.domain.service_records import CheckinDisplay, RecordingActivity
from bot.i18n import Translator
from handlers.manage import back_to_card
from handlers.press_table import PressTable, press_handlers
from handlers.record_buttons import (
    AllOutAsk,
    AllOutAt,
    AttendanceList,
    CheckinClose,
    CheckinOpen,
    HoursReview,
)
from handlers.record_texts import TEXTS
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

QR_SCALE = 10


def checkin_link(bot_username: str, display: CheckinDisplay, step: int) -> str:
    token = link_token_for(display.secret, display.mode, step)
    return f"https://t.me/{bot_username}?start={checkin_payload(display.activity_id, token)}"


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as a PNG (error correction M: readable from a phone screen
    across a room, or a little damaged print-out)."""
    # Imported when first needed: a slow import the bot's start-up does not need.
    import segno

    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(
        buffer, kind="png", scale=QR_SCALE, border=3, dark="#000000", light="#ffffff"
    )
    return buffer.getvalue()


def caption(
    t: Translator,
    activity: RecordingActivity,
    display: CheckinDisplay,
    step: int,
    counts: tuple[int, int],
    closes: datetime,
) -> str:
    code = shown_code(code_for(display.secret, display.mode, step))
    title = html(activity.title)
    if display.mode is CheckMode.IN:
        head = t.gettext("📲 <b>Check-in</b> · {title}").format(title=title)
        label = t.gettext("Check-in code: <b>{code}</b>").format(code=code)
    else:
        head = t.gettext("👋 <b>Check-out</b> · {title}").format(title=title)
        label = t.gettext("Check-out code: <b>{code}</b>").format(code=code)
    lines = [
        head,
        "",
        label,
        t.gettext(
            "Volunteers scan the QR code with their phone camera, or send these six digits to "
            "this bot. The code changes every 30 seconds; forwarded codes do not work."
        ),
        "",
        t.gettext("Checked in: {checked_in} of {signed_up} signed up · checked out: {out}").format(
            checked_in=counts[0], signed_up=activity.confirmed_count, out=counts[1]
        ),
        t.gettext("Open until {when}.").format(when=t.format_clock(closes)),
    ]
    return "\n".join(lines)


def keyboard(t: Translator, display: CheckinDisplay) -> InlineKeyboardMarkup:
    aid = display.activity_id
    switch = (
        CheckinOpen(aid, CheckMode.OUT).button(t.gettext("👋 Switch to check-out"))
        if display.mode is CheckMode.IN
        else CheckinOpen(aid, CheckMode.IN).button(t.gettext("📲 Switch to check-in"))
    )
    rows: list[list[InlineKeyboardButton]] = [
        [switch],
        [
            AttendanceList(aid, 0).button(t.gettext("🙋 Attendance")),
            AllOutAsk(aid).button(t.gettext("🏁 Everyone out")),
        ],
        [CheckinClose(aid).button(t.gettext("⏹ Close check-in"))],
    ]
    return InlineKeyboardMarkup(rows)


async def _render(
    context: ZyContext,
    activity: RecordingActivity,
    display: CheckinDisplay,
    step: int,
    t: Translator,
) -> tuple[bytes, str, InlineKeyboardMarkup]:
    attendance = context.services.attendance
    counts = await attendance.counts(activity.activity_id)
    closes = attendance.window(activity).closes
    link = checkin_link(context.bot.username, display, step)
    return qr_png(link), caption(t, activity, display, step, counts, closes), keyboard(t, display)


async def on_open(update: Update, context: ZyContext, press: CheckinOpen) -> None:
    """Show the code (a new photo message, so the card stays where it was)."""
    attendance = context.services.attendance
    activity, display = await attendance.open_display(
        context.user.telegram_id, press.activity_id, press.mode
    )
    await answer(update)
    step = step_at(attendance.now())
    png, text, markup = await _render(context, activity, display, step, context.t)
    chat = update.effective_chat
    if chat is None:
        return
    sent = await chat.send_photo(png, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup)
    previous = display if display.message_id is not None else None
    await attendance.place_display(activity.activity_id, sent.chat_id, sent.message_id, step)
    if previous is not None and previous.chat_id is not None and previous.message_id is not None:
        # One live display per activity: the older photo says it moved.
        await _retire(context, previous.chat_id, previous.message_id, context.t)


async def _retire(context: ZyContext, chat_id: int, message_id: int, t: Translator) -> None:
    try:
        await context.bot.edit_message_caption(
            chat_id=chat_id,
            message_id=message_id,
            caption=t.gettext("⏹ This code is no longer shown here."),
            reply_markup=None,
        )
    except (BadRequest, Forbidden) as error:
        log.info("could not retire check-in display %s/%s: %s", chat_id, message_id, error)


async def on_close(update: Update, context: ZyContext, press: CheckinClose) -> None:
    activity = await context.services.attendance.close_display(
        context.user.telegram_id, press.activity_id
    )
    await answer(update)
    t = context.t
    text = t.gettext("⏹ Check-in for <b>{title}</b> is closed.").format(title=html(activity.title))
    rows = [
        [HoursReview(activity.activity_id, 0).button(t.gettext("🕒 Review hours"))],
        back_to_card(t.gettext("⬅️ Back to the activity"), activity.activity_id),
    ]
    await _edit_caption_or_send(update, text, InlineKeyboardMarkup(rows))


async def _edit_caption_or_send(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_caption(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return
        except BadRequest as error:
            log.info("could not edit the display's caption: %s", error)
    await send(update, text, markup)


async def on_all_out_ask(update: Update, context: ZyContext, press: AllOutAsk) -> None:
    """When did everyone leave? Now, or the scheduled end."""
    attendance = context.services.attendance
    activity = await attendance.activity_for(context.user.telegram_id, press.activity_id)
    await answer(update)
    t = context.t
    now = attendance.now()
    choices = {now, min(activity.ends_at, now) if now > activity.starts_at else activity.ends_at}
    buttons = [
        AllOutAt(activity.activity_id, int(moment.timestamp()) // 60).button(
            t.gettext("🏁 At {time}").format(time=t.format_clock(moment))
        )
        for moment in sorted(choices)
    ]
    text = t.gettext(
        "Check out everyone who is still checked in to <b>{title}</b>? Choose the time they "
        "left; hours are counted to then."
    ).format(title=html(activity.title))
    rows = [buttons, back_to_card(t.gettext("⬅️ Back to the activity"), activity.activity_id)]
    await send(update, text, InlineKeyboardMarkup(rows))


def _moment_of(minute: int) -> datetime | None:
    """The moment a button's minute (Unix time / 60) stands for; ``None`` past any date the
    platform can hold (a forged press may carry up to 16 digits)."""
    try:
        return datetime.fromtimestamp(minute * 60, UTC)
    except (OverflowError, OSError, ValueError):
        return None


async def on_all_out(update: Update, context: ZyContext, press: AllOutAt) -> None:
    attendance = context.services.attendance
    activity = await attendance.activity_for(context.user.telegram_id, press.activity_id)
    at = _moment_of(press.minute)
    # The button offered "now" or the end; a forged time outside the activity is refused.
    if at is None or not activity.starts_at <= at <= attendance.now() + timedelta(minutes=1):
        await answer(update, context.t.gettext("This button is no longer valid."), alert=True)
        return
    count = await attendance.all_out(context.user.telegram_id, press.activity_id, at)
    await answer(update)
    t = context.t
    text = t.ngettext(
        "🏁 {n} volunteer checked out at {time}.",
        "🏁 {n} volunteers checked out at {time}.",
        count,
    ).format(n=count, time=t.format_clock(at))
    rows = [
        [HoursReview(press.activity_id, 0).button(t.gettext("🕒 Review hours"))],
        back_to_card(t.gettext("⬅️ Back to the activity"), press.activity_id),
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def rotate_displays(context: ZyContext) -> None:
    """The rotation job: redraw displays whose step changed; close those whose window ended."""
    services = context.services
    attendance = services.attendance
    now = attendance.now()
    step = step_at(now)
    for display in await attendance.open_displays():
        if display.chat_id is None or display.message_id is None:
            continue
        activity = await attendance.recording_activity(display.activity_id)
        if activity is None:
            continue
        if activity.cancelled or now > attendance.window(activity).closes:
            await attendance.expire_display(display.activity_id)
            await _retire(
                context,
                display.chat_id,
                display.message_id,
                await _organizer_t(context, display.chat_id),
            )
            continue
        # Only the process that claims this step redraws (and reads the organizer's language).
        if not await attendance.claim_rotation(display.activity_id, step):
            continue
        t = await _organizer_t(context, display.chat_id)
        png, text, markup = await _render(context, activity, display, step, t)
        try:
            await context.bot.edit_message_media(
                chat_id=display.chat_id,
                message_id=display.message_id,
                media=InputMediaPhoto(png, caption=text, parse_mode=ParseMode.HTML),
                reply_markup=markup,
            )
        except BadRequest as error:
            if "not modified" in str(error).lower():
                continue
            # Deleted by the organizer, or too old to edit: stop drawing it.
            log.info("check-in display %s gone: %s", display.activity_id, error)
            await attendance.expire_display(display.activity_id)
        except Forbidden as error:
            log.info("check-in display %s unreachable: %s", display.activity_id, error)
            await attendance.expire_display(display.activity_id)


async def _organizer_t(context: ZyContext, chat_id: int) -> Translator:
    """The language of the chat the display is in (a private chat: its user's)."""
    services = context.services
    user = await services.accounts.get(chat_id) if chat_id > 0 else None
    if user is None:
        return services.translator(services.settings.default_language)
    return services.translator(services.accounts.language_of(user))


PRESSES: PressTable = {
    CheckinOpen: on_open,
    CheckinClose: on_close,
    AllOutAsk: on_all_out_ask,
    AllOutAt: on_all_out,
}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
