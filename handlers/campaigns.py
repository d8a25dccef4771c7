"""Campaign notifications around key dates — the organizers' heads-up, the volunteers' campaign
and greeting — and the weekly digest, with the repeating job that plans them and the opt-out
buttons they carry. Administering the key dates themselves is :mod:`handlers.key_dates`.

```mermaid
flowchart LR
    J[planning job, every 5 min] --> P[services.campaigns.plan: outbox rows]
    P --> D[delivery renders: heads-up · campaign · greeting · digest]
    D --> O[cp.off / cp.nodg: opt out of campaigns / digests]
```
"""

from __future__ import annotations

import logging
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.matching import Match
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import Translator
from handlers.activity_view import (
    NOWHERE,
    Names,
    View,
    activity_line,
    clip,
    reasons_text,
    with_view,
)
from handlers.callbacks import MenuItem, MenuOpen, Press
from handlers.key_dates import day_text, local_today
from handlers.press_table import press_handlers, without_press
from handlers.publish_form import PublishFor
from handlers.refusals import RefusalTexts
from handlers.render import answer, html

log = logging.getLogger(__name__)


class OptOut(StrEnum):
    CAMPAIGNS = "off"
    DIGEST = "nodg"


class CpOptOut(Press, prefix="cp"):
    """From a campaign message or a digest: no more of that kind."""

    which: OptOut


def _days_until_text(t: Translator, days: int) -> str:
    if days <= 0:
        return t.gettext("today")
    if days == 1:
        return t.gettext("tomorrow")
    return t.ngettext("in {n} day", "in {n} days", days).format(n=days)


# ------------------------------------------------------------------------------- notifications


def _signup_rows(t: Translator, matches: list[Match]) -> list[list[InlineKeyboardButton]]:
    view = View(NOWHERE)
    rows = []
    for number, match in enumerate(matches, start=1):
        activity = match.activity
        full = activity.is_full or activity.waitlist_count > 0
        label = (
            t.gettext("⏳ {number}. Waitlist: {title}")
            if full
            else t.gettext("✋ {number}. Sign up: {title}")
        ).format(number=number, title=clip(activity.title, 22))
        action = "wait" if full else "join"
        rows.append(
            [
                InlineKeyboardButton(
                    label, callback_data=with_view("su", action, activity.activity_id, view=view)
                )
            ]
        )
    return rows


def _match_lines(t: Translator, matches: list[Match], names: Names) -> list[str]:
    lines = []
    for number, match in enumerate(matches, start=1):
        extra = f"\n    {reasons_text(t, match, names)}" if match.personal else ""
        lines.append(activity_line(t, match.activity, number, html(extra)))
    return lines


async def render_heads_up(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    found = await services.campaigns.key_date_ahead(
        item.payload.get("key_date"), item.payload.get("date")
    )
    if found is None:
        return None
    organizations = await services.staff.organizations_of(item.telegram_id)
    if not organizations:
        return None  # no longer an organizer
    key_date, day = found
    days = (day - local_today(services)).days
    text = t.gettext(
        "🗓 <b>{name}</b> is {when} ({day}).\n\n"
        "Planning something for it? Publish your activities now: volunteers who opted in hear "
        "about activities for this day a week before and the day before."
    ).format(
        name=html(key_date.name(t.language.value)),
        when=_days_until_text(t, days),
        day=day_text(t, day),
    )
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("➕ New activity · {organization}").format(
                    organization=clip(organization.name, 20)
                ),
                callback_data=PublishFor(organization.organization_id).pack(),
            )
        ]
        for organization, _role in organizations[:5]
    ]
    return Rendered(text, InlineKeyboardMarkup(rows))


async def render_campaign(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    found = await services.campaigns.campaign_matches(
        item.telegram_id, item.payload.get("key_date"), item.payload.get("date")
    )
    if found is None:
        return None  # opted out, disabled, passed, or nothing left to join
    key_date, day, matches = found
    names = await Names.load(services, t)
    days = (day - local_today(services)).days
    lines = [
        t.gettext("🗓 <b>{name}</b> is {when} ({day}).").format(
            name=html(key_date.name(t.language.value)),
            when=_days_until_text(t, days),
            day=day_text(t, day),
        ),
        "",
        t.gettext("Volunteer for it! Activities for the day, best matches for you first:"),
        "",
        *_match_lines(t, matches, names),
    ]
    rows = _signup_rows(t, matches)
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("🔕 No more campaign messages"),
                callback_data=CpOptOut(OptOut.CAMPAIGNS).pack(),
            )
        ]
    )
    return Rendered("\n".join(lines), InlineKeyboardMarkup(rows))


async def render_greeting(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    key_date = await services.campaigns.greeting(
        item.telegram_id, item.payload.get("key_date"), item.payload.get("date")
    )
    if key_date is None:
        return None
    text = t.gettext(
        "🎉 Today is <b>{name}</b>. Thank you for volunteering: every hour you give makes our "
        "city a warmer place."
    ).format(name=html(key_date.name(t.language.value)))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("🔍 Service menu"), callback_data=MenuOpen(MenuItem.BROWSE).pack()
                )
            ]
        ]
    )
    return Rendered(text, markup)


async def render_digest(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    matches = await services.campaigns.digest_matches(
        item.telegram_id, item.payload.get("since"), item.payload.get("until")
    )
    if not matches:
        return None  # nothing new for them: no digest at all
    names = await Names.load(services, t)
    lines = [
        t.gettext("📰 <b>New this week for you</b>"),
        "",
        *_match_lines(t, matches, names),
    ]
    rows = _signup_rows(t, matches)
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("🔕 No more weekly digests"), callback_data=CpOptOut(OptOut.DIGEST).pack()
            )
        ]
    )
    return Rendered("\n".join(lines), InlineKeyboardMarkup(rows))


async def on_opt_out(update: Update, context: ZyContext) -> None:
    """``cp:off`` / ``cp:nodg`` from a campaign or digest: turn that kind off for this user."""
    press = CpOptOut.parse(update.callback_query.data if update.callback_query else None)
    t = context.t
    done = press is not None and await context.services.campaigns.opt_out(
        context.user.telegram_id,
        campaigns=press.which is OptOut.CAMPAIGNS,
        digest=press.which is OptOut.DIGEST,
    )
    if not done:
        await answer(update, t.gettext("This button is no longer valid."))
        return
    await answer(update, t.gettext("OK. You can turn it back on in /profile."), alert=True)


# ------------------------------------------------------------------------------------- the job


async def plan_campaigns(context: ZyContext) -> None:
    """The repeating planning job (see :mod:`bot.services.campaigns`)."""
    report = await context.services.campaigns.plan()
    if report.planned:
        nudge_outbox(context)


def register(application: HandlerSink) -> None:
    # A malformed opt-out reaches ``on_opt_out`` too, which answers it as no longer valid.
    for handler, group in press_handlers(
        {CpOptOut: without_press(on_opt_out)}, texts=RefusalTexts(), invalid=on_opt_out
    ):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.KEY_DATE_HEADS_UP: render_heads_up,
    NotificationKind.CAMPAIGN: render_campaign,
    NotificationKind.KEY_DATE_GREETING: render_greeting,
    NotificationKind.DIGEST: render_digest,
}
