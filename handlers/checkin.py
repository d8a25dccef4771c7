"""A volunteer checks in or out: by scanning the organizer's QR code or typing its six digits.

```mermaid
flowchart LR
    scan["/start ck_id_token"] --> check{fresh? window open? registered?}
    typed["typed 123 456"] --> check
    check -->|yes, check-in| thanks[Checked in ✅] --> where((flow checkin_location: share a pin?))
    where -->|pin| distance[Distance to the place stored, shown]
    where -->|Skip| done[Done]
    where -->|other text| passed[Handled as if no question was asked]
    check -->|yes, check-out| bye[Checked out 👋]
    check -->|old code| expired[Expired: scan the current code]
    check -->|no match| wrong[Wrong code]
```

Nothing in the link or the code says who the volunteer is: that is always the sender. The
location is a signal for the organizer (how far from the activity's pin), never a gate.
"""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.checkin import CheckMode, parse_typed_code
from bot.domain.deeplinks import CheckinLink
from bot.domain.flows import FlowOwner
from bot.domain.geo import Point
from bot.i18n import Translator
from bot.services.attendance import CheckResult
from handlers.flows import PASS_ON, Flow, release, take
from handlers.record_texts import TEXTS
from handlers.refusals import refusing
from handlers.render import html, send

FLOW = "checkin_location"
ASKED = "location"


async def on_link(update: Update, context: ZyContext, link: CheckinLink) -> None:
    """``/start ck_<activity>_<token>`` from a scanned QR code."""

    @refusing(TEXTS)
    async def run(update: Update, context: ZyContext) -> None:
        result = await context.services.attendance.check_by_link(
            context.user.telegram_id, link.activity_id, link.token
        )
        await _done(update, context, result)

    await run(update, context)


async def try_typed_code(update: Update, context: ZyContext, text: str) -> bool:
    """Six typed digits are a check-in code; ``False`` when the text is not shaped like one."""
    code = parse_typed_code(text)
    if code is None:
        return False

    @refusing(TEXTS)
    async def run(update: Update, context: ZyContext) -> None:
        result = await context.services.attendance.check_by_code(context.user.telegram_id, code)
        await _done(update, context, result)

    await run(update, context)
    return True


async def _done(update: Update, context: ZyContext, result: CheckResult) -> None:
    t = context.t
    title = html(result.activity.title)
    when = t.format_clock(result.at) if result.at is not None else ""
    if result.mode is CheckMode.OUT:
        if result.first_time:
            text = t.gettext(
                "👋 Checked out of <b>{title}</b> at {time}. Thank you! Your hours are recorded "
                "once the organizer confirms them; see /hours."
            ).format(title=title, time=when)
        else:
            text = t.gettext("You checked out of <b>{title}</b> already, at {time}.").format(
                title=title, time=when
            )
        await send(update, text)
        return
    if not result.first_time:
        await send(
            update,
            t.gettext("You checked in to <b>{title}</b> already, at {time}.").format(
                title=title, time=when
            ),
        )
        return
    lines = [
        t.gettext("✅ Checked in to <b>{title}</b> at {time}. Thank you for coming!").format(
            title=title, time=when
        )
    ]
    if result.walk_in:
        lines.append(t.gettext("You had not signed up, so the organizer sees you as a walk-in."))
    if result.late:
        lines.append(t.gettext("The activity had already started, so you are marked late."))
    activity = result.activity
    if activity.latitude is None or activity.longitude is None:
        await send(update, "\n".join(lines))
        return
    # Asked before the question is shown, so a restart in between loses nothing.
    await take(context, FLOW, ASKED, {"activity": activity.activity_id})
    lines += [
        "",
        t.gettext(
            "If you like, share your location so the organizer sees you are on site (optional)."
        ),
    ]
    markup = ReplyKeyboardMarkup(
        [
            [KeyboardButton(t.gettext("📍 Share my location"), request_location=True)],
            [KeyboardButton(t.gettext("Skip"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await send(update, "\n".join(lines), markup)


async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    activity_id = owner.int_state("activity")
    await release(context, FLOW)
    t = context.t
    if message is None or message.location is None or activity_id is None:
        return
    where = Point(message.location.latitude, message.location.longitude)
    found = await context.services.attendance.share_location(
        context.user.telegram_id, activity_id, where
    )
    if found is None:
        await send(update, t.gettext("Thank you."), ReplyKeyboardRemove())
        return
    metres, far = found
    if far:
        text = t.gettext(
            "Thank you. You are about {distance} from the activity's place; the organizer will "
            "see that."
        )
    else:
        text = t.gettext("Thank you. You are about {distance} from the activity's place.")
    await send(update, text.format(distance=_distance(t, metres)), ReplyKeyboardRemove())


def _distance(t: Translator, metres: int) -> str:
    if metres < 1000:
        return t.gettext("{metres} m").format(metres=metres)
    return t.gettext("{km} km").format(km=t.format_number(round(metres / 1000, 1)))


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """ "Skip" ends the optional question; anything else (a search, a greeting, another
    code) is not an answer to it, so it goes where it would have gone without the question."""
    await release(context, FLOW)
    message = update.effective_message
    text = message.text.strip() if message is not None and message.text else ""
    if text in (context.t.gettext("Skip"), "Skip", "跳过"):
        await send(update, context.t.gettext("OK."), ReplyKeyboardRemove())
        return None
    return PASS_ON


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, FLOW)
    await send(update, context.t.gettext("OK."), ReplyKeyboardRemove())


FLOWS = [Flow(FLOW, on_text=on_text, on_location=on_location, on_cancel=on_cancel)]


def register(application: HandlerSink) -> None:
    """Entries come from /start (links) and the default text handler (typed codes)."""
