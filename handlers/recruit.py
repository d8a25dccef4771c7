"""Recruiting: organizers find and invite volunteers who fit an activity; volunteers answer
invitations; organizers are alerted when an activity is under-staffed.

```mermaid
flowchart LR
    alert[Under-staffed alert] -->|rc.list| list
    manage[Management card mg.card] -->|rc.list| list[Ranked volunteers, page N]
    list -->|rc.list id page| list
    list -->|rc.ask| confirm[Invite the top N?]
    confirm -->|rc.go id total| sent[N invited] --> list
    confirm -->|rc.list| list
    invitation[Invitation: activity card] -->|su.join| signed[Signed up, the sign-up flow]
    invitation -->|inv.no| declined[Not interested, remembered]
```

Every organizer press is re-authorized with :meth:`bot.services.staff.StaffService.activity_for`;
a refused press (stale, or forged by someone who is not an organizer of that activity) gets a
short answer and changes nothing. The list shows only a volunteer's name, district and why
they fit: never a phone number. "Not interested" is checked on the server too: only someone
who was invited to that activity can decline it.

Stale invitations: the renderer (at send time, after quiet hours) sends nothing when the
activity was cancelled, has started or closed sign-up, or when the volunteer answered, paused,
switched invitations off or can no longer join. A full activity is still sent, showing its
current state and "Join the waitlist": the waitlist is always open. A card already delivered
shows the current state when pressed (the sign-up flow re-checks everything).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, clamp_page, page_count
from bot.domain.matching import Reason, ReasonKind
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import Translator
from bot.services.recruiting import (
    DeclineOutcome,
    FoundVolunteers,
    InviteOutcome,
    VolunteerMatch,
    is_understaffed,
)
from bot.services.staff import StaffRefused
from handlers.activity_view import (
    NOWHERE,
    SLOT_NAMES,
    Names,
    card_text,
    when,
)
from handlers.callbacks import (
    MenuItem,
    MenuOpen,
    Press,
    legacy_fields,
    parse_id,
    parse_int,
    parse_page,
)
from handlers.manage_buttons import ManageCard
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, show
from handlers.signup import LEGACY_JOINS
from handlers.signup import legacy_press as legacy_signup_press
from handlers.signup_buttons import SignupJoin, SignupWait
from handlers.staff import STAFF_REFUSALS

log = logging.getLogger(__name__)


class RecruitList(Press, prefix="rc.list"):
    activity_id: int
    page: int = 0


class RecruitAsk(Press, prefix="rc.ask"):
    """Confirm before inviting."""

    activity_id: int


class RecruitGo(Press, prefix="rc.go"):
    """Invite the top N; ``total`` is the number invited so far that the confirmation showed,
    so a second press (or one from an older screen) invites nobody twice."""

    activity_id: int
    total: int


class InviteDecline(Press, prefix="inv.no"):
    activity_id: int


PAGE_SIZE = 10
MAX_PAGE = 999  # a page number in callback data has at most three digits
# Runs after the sign-up handlers (group 0) on the same press; a group of its own, so no other
# module's handler in that group can shadow it.
AFTER_SIGNUP_GROUP = 5


# ------------------------------------------------------------------------------------ helpers


#: Organizer presses are re-authorized; a refusal only answers (nothing changed).
TEXTS = RefusalTexts(cast("Mapping[StrEnum, str]", STAFF_REFUSALS))


async def _authorized(context: ZyContext, activity_id: int) -> Activity:
    """The activity if the presser may manage it (``StaffRefused`` otherwise, answered from
    :data:`TEXTS`)."""
    return await context.services.staff.activity_for(context.user.telegram_id, activity_id)


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."))


def _reason(t: Translator, reason: Reason, names: Names) -> str:
    if reason.kind is ReasonKind.INTEREST:
        return t.gettext("interested in {category}").format(
            category=names.category(reason.codes[0])
        )
    if reason.kind is ReasonKind.SKILL:
        return t.gettext("has {skills}").format(skills=names.skill_list(reason.codes, t))
    if reason.kind is ReasonKind.AVAILABILITY:
        return t.gettext("free {slot}").format(
            slot=t.gettext(SLOT_NAMES.get(reason.codes[0], reason.codes[0]))
        )
    if reason.kind is ReasonKind.AREA:
        return t.gettext("lives in {area}").format(
            area=names.areas.get(reason.codes[0], reason.codes[0])
        )
    return ""


def match_line(t: Translator, number: int, match: VolunteerMatch, names: Names) -> str:
    """ "3. <b>Wang Fang</b> · Furong District — interested in Health; free weekend mornings"."""
    area = (
        names.areas.get(match.area_code, match.area_code)
        if match.area_code
        else t.gettext("district not given")
    )
    reasons = t.gettext("; ").join(
        part for part in (_reason(t, r, names) for r in match.reasons) if part
    )
    return t.gettext("{number}. <b>{name}</b> · {area} — {reasons}").format(
        number=number, name=html(match.name), area=html(area), reasons=html(reasons)
    )


def _header(t: Translator, found: FoundVolunteers, cap: int) -> list[str]:
    activity = found.activity
    counts = found.counts
    return [
        t.gettext("🔎 <b>Volunteers for “{title}”</b>").format(title=html(activity.title)),
        t.gettext("🕘 {when}").format(when=when(t, activity)),
        t.gettext("👥 {confirmed} of {capacity} confirmed · {waiting} waiting").format(
            confirmed=activity.confirmed_count,
            capacity=activity.capacity,
            waiting=activity.waitlist_count,
        ),
        t.gettext(
            "📨 Invited: {total} ({signed_up} signed up, {declined} not interested) · "
            "today {today} of {cap}"
        ).format(
            total=counts.total,
            signed_up=counts.signed_up,
            declined=counts.declined,
            today=counts.today,
            cap=cap,
        ),
    ]


async def render_list(
    update: Update, context: ZyContext, found: FoundVolunteers, page: int, notice: str = ""
) -> None:
    t = context.t
    services = context.services
    policy = services.recruiting.policy
    aid = found.activity.activity_id
    names = await Names.load(services, t)
    lines = [notice, ""] if notice else []
    lines += _header(t, found, policy.daily_cap)
    lines.append("")
    rows: list[list[InlineKeyboardButton]] = []
    matches = found.matches
    if not found.open:
        lines.append(t.gettext("Sign-up for this activity is not open, so nobody can be invited."))
    elif not matches:
        lines.append(
            t.gettext(
                "Nobody else fits right now. Volunteers invited in the last {days} days, "
                "those who switched invitations off or paused, and those who said they are "
                "not interested are not listed."
            ).format(days=policy.cooldown.days)
        )
    else:
        pages = page_count(len(matches), PAGE_SIZE)
        page = clamp_page(page, len(matches), PAGE_SIZE)
        start = page * PAGE_SIZE
        lines.append(
            t.ngettext(
                "{n} volunteer fits, best first (name, district and why):",
                "{n} volunteers fit, best first (name, district and why):",
                len(matches),
            ).format(n=len(matches))
        )
        for number, match in enumerate(matches[start : start + PAGE_SIZE], start=start + 1):
            lines.append(match_line(t, number, match, names))
        if pages > 1:
            lines += ["", t.gettext("Page {page} of {pages}").format(page=page + 1, pages=pages)]
        top = min(policy.batch_size, len(matches))
        rows.append(
            [
                InlineKeyboardButton(
                    t.ngettext("📨 Invite the top {n}", "📨 Invite the top {n}", top).format(n=top),
                    callback_data=RecruitAsk(aid).pack(),
                )
            ]
        )
        paging: list[InlineKeyboardButton] = []
        if page > 0:
            paging.append(RecruitList(aid, page - 1).button(t.gettext("◀️ Previous")))
        if page < pages - 1:
            paging.append(RecruitList(aid, page + 1).button(t.gettext("Next ▶️")))
        if paging:
            rows.append(paging)
    rows.append([ManageCard(aid).button(t.gettext("⬅️ Back to the activity"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


# ------------------------------------------------------------------------------ organizer side


async def on_find(update: Update, context: ZyContext, press: RecruitList) -> None:
    """The ranked list."""
    activity = await _authorized(context, press.activity_id)
    found = await context.services.recruiting.find(activity)
    await answer(update)
    await render_list(update, context, found, min(press.page, MAX_PAGE))


async def on_ask(update: Update, context: ZyContext, press: RecruitAsk) -> None:
    """Confirm before inviting."""
    activity = await _authorized(context, press.activity_id)
    activity_id = activity.activity_id
    t = context.t
    services = context.services
    found = await services.recruiting.find(activity)
    if not found.open or not found.matches:
        await answer(update)
        await render_list(update, context, found, 0)
        return
    policy = services.recruiting.policy
    top = min(policy.batch_size, len(found.matches))
    await answer(update)
    text = t.ngettext(
        "Invite the top {n} volunteer of the list to <b>{title}</b> ({when})?",
        "Invite the top {n} volunteers of the list to <b>{title}</b> ({when})?",
        top,
    ).format(n=top, title=html(activity.title), when=when(t, activity))
    text += "\n\n" + t.gettext(
        "Each gets the activity card with “Sign up” and “Not interested”. Nobody is signed "
        "up without their own tap, and nobody is invited again for {days} days. At most "
        "{cap} invitations per activity per day."
    ).format(days=policy.cooldown.days, cap=policy.daily_cap)
    rows = [
        [RecruitGo(activity_id, found.counts.total).button(t.gettext("📨 Yes, invite them"))],
        [RecruitList(activity_id).button(t.gettext("↩️ Back"))],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_go(update: Update, context: ZyContext, press: RecruitGo) -> None:
    """Invite the top N (none when the count of invitations moved since the confirmation)."""
    activity = await _authorized(context, press.activity_id)
    expected = press.total
    t = context.t
    services = context.services
    cap = services.recruiting.policy.daily_cap
    result = await services.recruiting.invite(
        activity, context.user.telegram_id, expected_total=expected
    )
    if result.outcome is InviteOutcome.SENT:
        nudge_outbox(context)
        notice = t.ngettext(
            "📨 <b>{n} volunteer invited.</b> They will get the activity card (after their "
            "quiet hours, if any).",
            "📨 <b>{n} volunteers invited.</b> They will get the activity card (after their "
            "quiet hours, if any).",
            result.invited,
        ).format(n=result.invited)
        await answer(update, t.gettext("Invitations sent."))
    else:
        notice = {
            InviteOutcome.NOBODY: t.gettext("Nobody left to invite right now."),
            InviteOutcome.DAILY_CAP: t.gettext(
                "The limit of {cap} invitations per activity per day is reached. "
                "Try again tomorrow."
            ).format(cap=cap),
            InviteOutcome.CLOSED: t.gettext(
                "Sign-up for this activity is not open, so nobody can be invited."
            ),
            InviteOutcome.STALE: t.gettext(
                "These invitations were already sent. Here is the updated list."
            ),
        }[result.outcome]
        await answer(update)
    found = await services.recruiting.find(activity)
    await render_list(update, context, found, 0, notice=notice)


# ------------------------------------------------------------------------------ volunteer side


async def on_not_interested(update: Update, context: ZyContext, press: InviteDecline) -> None:
    """Decline an invitation (only one this volunteer received)."""
    activity_id = press.activity_id
    t = context.t
    services = context.services
    outcome = await services.recruiting.decline(context.user.telegram_id, activity_id)
    if outcome is DeclineOutcome.NOT_INVITED:
        await _invalid(update, context)
        return
    activity = await services.activities.get(activity_id)
    title = html(activity.title) if activity is not None else ""
    if outcome is DeclineOutcome.SIGNED_UP:
        await answer(update, t.gettext("You are signed up for this activity."))
        text = t.gettext(
            "You are signed up for <b>{title}</b>. To cancel, open it from “My sign-ups”."
        ).format(title=title)
    else:
        await answer(update, t.gettext("Noted. Thank you!"))
        text = t.gettext(
            "OK, you will not be invited to <b>{title}</b> again. Thank you for answering.\n\n"
            "You can switch invitations off altogether in /profile."
        ).format(title=title)
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("🔍 Service menu"), callback_data=MenuOpen(MenuItem.BROWSE).pack()
            )
        ]
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def after_signup(update: Update, context: ZyContext, press: SignupJoin | SignupWait) -> None:
    """After ``su.join`` / ``su.wait`` (handled in group 0): an invitation to that activity is
    answered. Sign-ups by other paths are caught up when the organizer opens the list."""
    activity_id = press.activity_id
    recruiting = context.services.recruiting
    invitation = await recruiting.invitation_of(context.user.telegram_id, activity_id)
    if invitation is not None and invitation.response is None:
        await recruiting.note_signed_up(activity_id)


# -------------------------------------------------------------------------------- notifications


async def render_invitation(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    activity_id = item.payload.get("activity_id")
    if not isinstance(activity_id, int):
        return None
    activity = await services.activities.get(activity_id)
    now = services.clock()
    if activity is None or not activity.is_open_for_signup(now):
        return None  # cancelled, started or closed meanwhile
    invitation = await services.recruiting.invitation_of(item.telegram_id, activity_id)
    if invitation is None or invitation.response is not None:
        return None  # answered already (or the account is gone)
    viewer = await services.signups.viewer(item.telegram_id, activity)
    profile = viewer.profile
    if (
        profile is None
        or viewer.active_signup is not None
        or viewer.missing_skills
        or viewer.too_young
        or profile.is_paused_on(now.astimezone(services.settings.tz).date())
        or not profile.notifications.invitations
    ):
        return None
    names = await Names.load(services, t)
    notice = t.gettext(
        "📨 <b>{organization} invites you</b> to this activity, because it fits your interests."
    ).format(organization=html(activity.organization_name))
    text = card_text(t, activity, viewer, names, now, notice=notice)
    join = (
        SignupWait(activity_id, NOWHERE).button(t.gettext("⏳ Join the waitlist"))
        if activity.is_full or activity.waitlist_count
        else SignupJoin(activity_id, NOWHERE).button(t.gettext("✋ Sign up"))
    )
    markup = InlineKeyboardMarkup(
        [
            [join],
            [InviteDecline(activity_id).button(t.gettext("🙅 Not interested"))],
        ]
    )
    return Rendered(text, markup)


async def render_understaffed(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    activity_id = item.payload.get("activity_id")
    if not isinstance(activity_id, int):
        return None
    try:
        # Still an organizer of it? (Removed members get nothing.)
        activity = await services.staff.activity_for(item.telegram_id, activity_id)
    except StaffRefused:
        return None
    now = services.clock()
    if not activity.is_open_for_signup(now) or not is_understaffed(
        activity, services.recruiting.policy.understaffed_threshold
    ):
        return None  # filled up, cancelled or closed meanwhile
    text = t.gettext(
        "⚠️ <b>{title}</b> ({when}) needs more volunteers: {confirmed} of {capacity} "
        "confirmed. Find volunteers who fit and invite them?"
    ).format(
        title=html(activity.title),
        when=when(t, activity),
        confirmed=activity.confirmed_count,
        capacity=activity.capacity,
    )
    markup = InlineKeyboardMarkup(
        [
            [RecruitList(activity_id).button(t.gettext("🔎 Find volunteers"))],
            [ManageCard(activity_id).button(t.gettext("📋 Manage the activity"))],
        ]
    )
    return Rendered(text, markup)


async def check_understaffed(context: ZyContext) -> None:
    """The repeating under-staffed check (a cheap indexed read when there is nothing to do)."""
    if await context.services.recruiting.alert_understaffed():
        nudge_outbox(context)


# ------------------------------------------------------------------------------ old buttons

LEGACY = r"^(rc|inv):"


def legacy_press(data: str) -> Press | None:
    """``rc:<id>[:<page>]``, ``rc:ask:<id>``, ``rc:go:<id>:<n>``, ``inv:no:<id>`` as drawn
    before the typed families (on alerts and invitations already sent)."""
    if (found := legacy_fields(data, "inv", "no", parse_id)) is not None:
        return InviteDecline(*found)
    if (found := legacy_fields(data, "rc", "ask", parse_id)) is not None:
        return RecruitAsk(*found)
    if (found := legacy_fields(data, "rc", "go", parse_id, _total)) is not None:
        return RecruitGo(*found)
    if (found := legacy_fields(data, "rc", parse_id)) is not None:
        return RecruitList(*found)
    if (found := legacy_fields(data, "rc", parse_id, _page)) is not None:
        return RecruitList(*found)
    return None


def _total(text: str) -> int | None:
    return parse_int(text, 9)


def _page(text: str) -> int | None:
    return parse_page(text, MAX_PAGE)


#: What each of this module's button families does.
PRESSES: PressTable = {
    RecruitList: on_find,
    RecruitAsk: on_ask,
    RecruitGo: on_go,
    InviteDecline: on_not_interested,
}


async def _no_signup(update: Update, context: ZyContext) -> None:
    """Data the sign-up handlers could not read either: they have answered it."""


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=_invalid, legacy=(LEGACY, legacy_press)
    ):
        application.add_handler(handler, group)
    for handler, group in press_handlers(
        {SignupJoin: after_signup, SignupWait: after_signup},
        texts=TEXTS,
        invalid=_no_signup,
        legacy=(LEGACY_JOINS, legacy_signup_press),
        group=AFTER_SIGNUP_GROUP,
    ):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.INVITATION: render_invitation,
    NotificationKind.UNDERSTAFFED: render_understaffed,
}
