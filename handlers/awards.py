"""Entering an award (民政部令第67号 Art. 9): whom, the title, the issuer, the date, a preview;
the volunteer is told.

```mermaid
flowchart LR
    cmd[/award/] --> orgs[Your organizations · any volunteer for administrators]
    panel[Organization panel: award.start org] --> list
    orgs -->|award.start org| list[Volunteers with a record, paged]
    list -->|award.list page| list
    list -->|award.find, administrators: take| find((flow award: @username or number))
    orgs -->|award.find| find
    find -->|not found| find
    list -->|award.pick volunteer: take| title((title ≤ 60))
    find -->|found: take| title
    title -->|take| issuer((issuer ≤ 60))
    issuer -->|award.issuer version: the organization's name| date
    issuer -->|typed: take| date((date: 2026-12-05, 12月5日, today))
    date -->|bad / future: localized answer| date
    date -->|take| preview[Preview]
    preview -->|award.save version: release| saved[Saved; outbox: the volunteer is told]
    preview -->|award.cancel or /cancel: release| gone[Nothing saved]
```

The answers so far live in the flow's stored state (``flow_owners``), so a restart between two
questions loses nothing. The issuer and Save buttons carry the version of the flow they were
drawn for: after the form went on (or started again), an older button is refused instead of
saving what the organizer did not see. :class:`bot.services.awards.AwardService` re-checks on
every step and on saving that this user may enter an award for this volunteer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.awards import ISSUER_MAX, TITLE_MAX, VolunteerBrief
from bot.domain.flows import FlowOwner, FlowState
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.awards import AwardRefusal
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.callbacks import Press
from handlers.flows import Flow, owned_by, release, take
from handlers.manage import STALE
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC, RefusalTexts, refusing
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS

FLOW = "award"
ORG = "org"
VOLUNTEER = "vol"
TITLE = "title"
ISSUER = "issuer"
DAY = "day"


class AwardStart(Press, prefix="award.start"):
    """Entry point (the organization panel): enter an award for one of its volunteers."""

    organization_id: int


class AwardList(Press, prefix="award.list"):
    organization_id: int
    page: int


class AwardPick(Press, prefix="award.pick"):
    organization_id: int
    volunteer_id: int


class AwardFind(Press, prefix="award.find"):
    """Administrators: find any volunteer (``organization_id`` 0: the award names none)."""

    organization_id: int


class AwardIssuer(Press, prefix="award.issuer"):
    """Use the organization's name as the issuer (drawn for this version of the flow)."""

    version: int


class AwardSave(Press, prefix="award.save"):
    """Save the previewed award (drawn for this version of the flow)."""

    version: int


class AwardCancel(Press, prefix="award.cancel"):
    pass


_REFUSALS: dict[StrEnum, str] = {
    AwardRefusal.NOT_SERVED: N_("This volunteer has no service record with this organization."),
    AwardRefusal.NO_VOLUNTEER: N_("This volunteer is no longer registered."),
}
TEXTS = RefusalTexts(STAFF_REFUSALS, _REFUSALS)


def _org_of(owner: FlowOwner) -> int | None:
    return owner.int_state(ORG)


# ------------------------------------------------------------------------------ whom for


async def on_command(update: Update, context: ZyContext) -> None:
    """``/award``: the organizations this user acts for, and any volunteer for administrators."""
    t = context.t
    awards = context.services.awards
    user_id = context.user.telegram_id
    admin = await awards.is_admin(user_id)
    organizations = await awards.organizations_of(user_id)
    if not admin and not organizations:
        await send(update, t.gettext("Sorry, only organizers and administrators can enter awards."))
        return
    await release(context, FLOW)
    if not admin and len(organizations) == 1:
        await show_volunteers(update, context, organizations[0].organization_id, 0)
        return
    rows = [[AwardStart(org.organization_id).button(f"🏢 {org.name}")] for org in organizations]
    if admin:
        rows.append([AwardFind(0).button(t.gettext("🔎 Any volunteer, by @username or number"))])
    await send(
        update,
        t.gettext("🏅 <b>Enter an award</b>\n\nFor which organization's volunteer?"),
        InlineKeyboardMarkup(rows),
    )


async def show_volunteers(
    update: Update, context: ZyContext, organization_id: int, page: int
) -> None:
    t = context.t
    awards = context.services.awards
    user_id = context.user.telegram_id
    found = await awards.volunteers(user_id, organization_id, page)
    text = t.gettext("🏅 <b>Enter an award</b> · {organization}").format(
        organization=html(found.organization.name)
    )
    if found.total:
        text += "\n\n" + t.gettext("Whom is it for? Volunteers who served with you:")
    else:
        text += "\n\n" + t.gettext("No volunteer has a service record with you yet.")
    rows = [[AwardPick(organization_id, v.volunteer_id).button(v.name)] for v in found.volunteers]
    paging: list[InlineKeyboardButton] = []
    if found.page > 0:
        paging.append(AwardList(organization_id, found.page - 1).button(t.gettext("◀️ Previous")))
    if found.page + 1 < found.pages:
        paging.append(AwardList(organization_id, found.page + 1).button(t.gettext("Next ▶️")))
    if paging:
        rows.append(paging)
    if await awards.is_admin(user_id):
        rows.append(
            [
                AwardFind(organization_id).button(
                    t.gettext("🔎 Any volunteer, by @username or number")
                )
            ]
        )
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_start(update: Update, context: ZyContext, press: AwardStart) -> None:
    await show_volunteers(update, context, press.organization_id, 0)
    await answer(update)


async def on_list(update: Update, context: ZyContext, press: AwardList) -> None:
    await show_volunteers(update, context, press.organization_id, press.page)
    await answer(update)


async def on_find(update: Update, context: ZyContext, press: AwardFind) -> None:
    user_id = context.user.telegram_id
    organization_id = press.organization_id or None
    if not await context.services.awards.is_admin(user_id):
        raise StaffRefused(StaffRefusal.NOT_ALLOWED)
    if organization_id is not None:
        await context.services.awards.organization(user_id, organization_id)
    await take(context, FLOW, "find", {ORG: organization_id})
    await answer(update)
    await send(
        update,
        context.t.gettext(
            "Type the volunteer's @username or volunteer number. Send /cancel to stop."
        ),
    )


async def _ask_title(
    update: Update, context: ZyContext, organization_id: int | None, volunteer_id: int
) -> None:
    _org, volunteer = await context.services.awards.recipient(
        context.user.telegram_id, organization_id, volunteer_id
    )
    await take(context, FLOW, "title", {ORG: organization_id, VOLUNTEER: volunteer_id})
    await send(
        update,
        context.t.gettext(
            "🏅 Award for <b>{name}</b>.\n\nType the title of the award (up to {limit} "
            "characters), for example 优秀志愿者. Send /cancel to stop."
        ).format(name=html(volunteer.name), limit=TITLE_MAX),
    )


async def on_pick(update: Update, context: ZyContext, press: AwardPick) -> None:
    # Answered after the checks: a refusal is the press's answer (an alert).
    await _ask_title(update, context, press.organization_id, press.volunteer_id)
    await answer(update)


# ------------------------------------------------------------------------------ typed steps


async def _on_find(update: Update, context: ZyContext, owner: FlowOwner, text: str) -> None:
    found = await context.services.awards.find(context.user.telegram_id, text)
    if found is None:
        await send(
            update,
            context.t.gettext(
                "No registered volunteer has that @username or number. Please check it and "
                "type it again, or send /cancel."
            ),
        )
        return
    await _ask_title(update, context, _org_of(owner), found.volunteer_id)


async def _on_title(update: Update, context: ZyContext, owner: FlowOwner, text: str) -> None:
    t = context.t
    title = context.services.awards.clean_title(text)
    state: FlowState = {**owner.state, TITLE: title}
    taken = await take(context, FLOW, "issuer", state)
    prompt = t.gettext("Who gave the award? Type the issuer (up to {limit} characters).").format(
        limit=ISSUER_MAX
    )
    organization_id = _org_of(owner)
    markup = None
    if organization_id is not None:
        organization = await context.services.awards.organization(
            context.user.telegram_id, organization_id
        )
        markup = InlineKeyboardMarkup(
            [[AwardIssuer(taken.version).button(f"🏢 {organization.name}")]]
        )
        prompt = t.gettext(
            "Who gave the award? Press the button for {organization}, or type the issuer "
            "(up to {limit} characters)."
        ).format(organization=html(organization.name), limit=ISSUER_MAX)
    await send(update, prompt, markup)


async def _ask_date(update: Update, context: ZyContext, owner: FlowOwner, issuer: str) -> None:
    state: FlowState = {**owner.state, ISSUER: issuer}
    await take(context, FLOW, "date", state)
    await send(
        update,
        context.t.gettext(
            "When was it given? Type the date, for example 2026-12-05, 12月5日 or today."
        ),
    )


async def _on_issuer(update: Update, context: ZyContext, owner: FlowOwner, text: str) -> None:
    await _ask_date(update, context, owner, context.services.awards.clean_issuer(text))


async def _on_date(update: Update, context: ZyContext, owner: FlowOwner, text: str) -> None:
    day = context.services.awards.parse_date(text)
    state: FlowState = {**owner.state, DAY: day.isoformat()}
    taken = await take(context, FLOW, "confirm", state)
    await _preview(update, context, taken)


async def _on_confirm(update: Update, context: ZyContext, owner: FlowOwner, text: str) -> None:
    await send(update, context.t.gettext("Please press Save or Cancel above."))


_STEPS: dict[str, Callable[[Update, ZyContext, FlowOwner, str], Awaitable[None]]] = {
    "find": _on_find,
    "title": _on_title,
    "issuer": _on_issuer,
    "date": _on_date,
    "confirm": _on_confirm,
}


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    step = _STEPS.get(owner.waiting_for)
    message = update.effective_message
    if step is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    try:
        await step(update, context, owner, message.text)
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))  # the same step still waits


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please type your answer as text, or send /cancel."))


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Cancelled. No award was saved."))


# ------------------------------------------------------------------------------ preview, save


async def _recipient(context: ZyContext, owner: FlowOwner) -> VolunteerBrief:
    volunteer_id = owner.int_state(VOLUNTEER)
    if volunteer_id is None:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    _org, volunteer = await context.services.awards.recipient(
        context.user.telegram_id, _org_of(owner), volunteer_id
    )
    return volunteer


async def _preview(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    t = context.t
    volunteer = await _recipient(context, owner)
    day = date.fromisoformat(owner.str_state(DAY) or "")
    lines = [
        t.gettext("🏅 <b>Please check the award</b>"),
        "",
        t.labelled(N_("Volunteer"), html(volunteer.name)),
        t.labelled(N_("Award"), html(owner.str_state(TITLE) or "")),
        t.labelled(N_("Issued by"), html(owner.str_state(ISSUER) or "")),
        t.labelled(N_("Date"), t.format_day(day, year=True)),
        "",
        t.gettext("The volunteer will be told once you save it."),
    ]
    markup = InlineKeyboardMarkup(
        [
            [
                AwardSave(owner.version).button(t.gettext("✅ Save")),
                AwardCancel().button(t.gettext("✖️ Cancel")),
            ]
        ]
    )
    await send(update, "\n".join(lines), markup)


async def _drawn(
    update: Update, context: ZyContext, version: int, waiting_for: str
) -> FlowOwner | None:
    """The flow the pressed button was drawn for; else the press is answered as stale."""
    owner = await owned_by(context, FLOW)
    if owner is None or owner.version != version or owner.waiting_for != waiting_for:
        await answer(update, context.t.gettext(STALE), alert=True)
        return None
    return owner


async def on_issuer(update: Update, context: ZyContext, press: AwardIssuer) -> None:
    owner = await _drawn(update, context, press.version, "issuer")
    if owner is None:
        return
    organization_id = _org_of(owner)
    if organization_id is None:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    organization = await context.services.awards.organization(
        context.user.telegram_id, organization_id
    )
    await answer(update)
    await _ask_date(update, context, owner, organization.name)


async def on_save(update: Update, context: ZyContext, press: AwardSave) -> None:
    owner = await _drawn(update, context, press.version, "confirm")
    if owner is None:
        return
    t = context.t
    volunteer_id = owner.int_state(VOLUNTEER)
    day = owner.str_state(DAY)
    if volunteer_id is None or day is None:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    try:
        award = await context.services.awards.enter(
            context.user.telegram_id,
            _org_of(owner),
            volunteer_id,
            owner.str_state(TITLE) or "",
            owner.str_state(ISSUER) or "",
            date.fromisoformat(day),
        )
    except InvalidInput as error:  # the day went past its limits meanwhile (a very old form)
        await release(context, FLOW)
        await answer(update, error.translate(t.gettext), alert=True)
        return
    await release(context, FLOW)
    nudge_outbox(context)
    await answer(update, t.gettext("Saved."))
    await show(
        update,
        t.gettext("✅ The award <b>{title}</b> is saved. The volunteer will be told.").format(
            title=html(award.title)
        ),
    )


async def on_cancel_press(update: Update, context: ZyContext, _press: AwardCancel) -> None:
    await release(context, FLOW)
    await answer(update)
    await show(update, context.t.gettext("Cancelled. No award was saved."))


# ------------------------------------------------------------------------------ the notice


async def render_award(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    award_id = item.payload.get("award_id")
    if not isinstance(award_id, int):
        return None
    award = await services.awards.award_for(item.telegram_id, award_id)
    if award is None:
        return None  # removed, or the account was deleted
    text = t.gettext(
        "🏅 <b>Congratulations!</b> An award was added to your volunteer record:\n\n"
        "<b>{title}</b>\n{issuer} · {day}\n\nThank you for your service."
    ).format(
        title=html(award.title),
        issuer=html(award.issuer),
        day=t.format_day(award.awarded_on, year=True),
    )
    return Rendered(text)


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {
    AwardStart: on_start,
    AwardList: on_list,
    AwardPick: on_pick,
    AwardFind: on_find,
    AwardIssuer: on_issuer,
    AwardSave: on_save,
    AwardCancel: on_cancel_press,
}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=on_other)]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {NotificationKind.AWARD_GRANTED: render_award}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("award", refusing(TEXTS)(on_command)))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
