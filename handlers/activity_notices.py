"""The notices that editing a published activity sends to its volunteers, rendered when sent.

``ACTIVITY_CHANGED`` (a new time, place or map pin: the fields the form table marks as news,
:mod:`bot.domain.activity_form`) and ``MOVED_TO_WAITLIST`` (a capacity drop moved the sign-up
back to the head of the waitlist). Each renders from the activity as it is at sending time and
drops a message a later change or the volunteer's own action made stale.

```mermaid
flowchart LR
    E[activity_edit: confirm] -->|outbox, same transaction| O[(outbox)]
    O --> R{still true when sent?}
    R -->|yes| M[message with Details / Show on map]
    R -->|no: changed again, cancelled, started, left| D[dropped]
```
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.context import Renderers, Services
from bot.delivery import Rendered
from bot.domain.activities import ActivityStatus, SignupStatus
from bot.domain.activity_form import News
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import Translator
from bot.services.publishing import format_pin
from bot.services.signups import SignupRefused
from handlers.activity_view import NOWHERE, when
from handlers.callbacks import button
from handlers.render import html


async def render_changed(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    activity_id = item.payload.get("activity_id")
    what = item.payload.get("field")
    value = item.payload.get("value")
    if not isinstance(activity_id, int) or not isinstance(value, str):
        return None
    activity = await services.activities.get(activity_id)
    if activity is None or activity.status is not ActivityStatus.PUBLISHED:
        return None  # cancelled meanwhile: the cancellation is the news
    if activity.ends_at <= services.clock():
        return None
    if what == News.TIME:
        start_text, _, end_text = value.partition("/")
        try:
            current = (datetime.fromisoformat(start_text), datetime.fromisoformat(end_text))
        except ValueError:
            return None
        if current != (activity.starts_at, activity.ends_at):
            return None  # changed again: the newer message tells the truth
        text = t.gettext(
            "🕘 <b>Time changed</b> for <b>{title}</b>.\nNow: {when}\n📍 {place}\n\n"
            "If you can no longer come, please cancel from the activity card."
        ).format(title=html(activity.title), when=when(t, activity), place=html(activity.place))
    elif what == News.PLACE:
        if value != activity.place:
            return None
        text = t.gettext(
            "📍 <b>Place changed</b> for <b>{title}</b> ({when}).\nNow: {place}"
        ).format(title=html(activity.title), when=when(t, activity), place=html(activity.place))
    elif what == News.PIN:
        if value != format_pin(activity.latitude, activity.longitude):
            return None  # moved again (or the place changed): a newer message says so
        if value:
            text = t.gettext(
                "📍 <b>Map pin moved</b> for <b>{title}</b> ({when}).\nPlace: {place}\n"
                "Tap “Show on map” to see where to go."
            )
        else:
            text = t.gettext(
                "📍 The <b>map pin was removed</b> for <b>{title}</b> ({when}).\nPlace: {place}"
            )
        text = text.format(
            title=html(activity.title), when=when(t, activity), place=html(activity.place)
        )
    else:
        return None
    rows = [[button(t.gettext("ℹ️ Details"), "act", activity.activity_id, NOWHERE)]]
    if what == News.PIN and activity.has_location:
        rows.insert(0, [button(t.gettext("🗺 Show on map"), "su", "map", activity.activity_id)])
    return Rendered(text, InlineKeyboardMarkup(rows))


async def render_moved(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    signup_id = item.payload.get("signup_id")
    if not isinstance(signup_id, int):
        return None
    try:
        signup = await services.signups.signup_by_id(item.telegram_id, signup_id)
    except SignupRefused:
        return None  # the account is gone
    if signup.status is not SignupStatus.WAITLISTED:
        return None  # offered a spot again, or left: stale
    activity = await services.activities.get(signup.activity_id)
    if activity is None or not activity.is_open_for_signup(services.clock()):
        return None
    text = t.gettext(
        "⏳ The organizer of <b>{title}</b> ({when}) had to reduce the number of places, and "
        "your sign-up moved to the <b>head of the waitlist</b>. If a spot frees up, it is "
        "offered to you first. Sorry for the change."
    ).format(title=html(activity.title), when=when(t, activity))
    markup = InlineKeyboardMarkup(
        [[button(t.gettext("ℹ️ Details"), "act", activity.activity_id, NOWHERE)]]
    )
    return Rendered(text, markup)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ACTIVITY_CHANGED: render_changed,
    NotificationKind.MOVED_TO_WAITLIST: render_moved,
}
