"""Publishing an activity (``/new``, ``pub:``): the form, its preview and its drafts.

Editing a published activity is :mod:`handlers.publish_edit`; what volunteers are told about
changes is :mod:`handlers.activity_notices`.

Handlers parse the update, call :class:`bot.services.publishing.PublishingService` and render the
step it leads to. The draft (answers and step) lives in ``activity_drafts``, and while a step
waits for an answer the ``publish`` flow owns the organizer's typed input (:mod:`handlers.flows`):
after a restart, or in another bot process, the next message or press finds both and carries on
at the same step. Every press is re-authorized by the service (``services.staff``); a forged or
stale one gets a short refusal and changes nothing.

```mermaid
stateDiagram-v2
    [*] --> ACTIVE: /new · pub:new:<org> · pub:draft:<id> · any pub: button
    ACTIVE --> ACTIVE: answer / calendar / edit a field (step kept in activity_drafts)
    ACTIVE --> [*]: Publish / Save draft / Discard / /cancel (draft kept)
    [*] --> ACTIVE: /new by an administrator · pub:orgs:<offset> (pick any approved organization)
```
The form's steps are drawn in :mod:`bot.services.publishing`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import ZyContext
from bot.domain.activities import PeopleServed, page_count
from bot.domain.flows import FlowOwner
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.publishing import (
    EDITABLE_STEPS,
    ORGANIZATIONS_PAGE,
    ActivityDraft,
    NoDraft,
    NotEditable,
    NotEditableReason,
    PublishingService,
    PublishStep,
    WrongStep,
)
from bot.services.signups import Viewer
from bot.services.staff import StaffRefused
from handlers import calendar_keyboard as cal
from handlers.activity_view import NOWHERE, PEOPLE_SERVED, Names, card_text, short_when, when
from handlers.callbacks import button, button_rows, parse_id, parse_int, split, stamped, unstamped
from handlers.flows import Flow, FlowHandler, owned_by, release, take
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

#: What a screen returns: the form waits for an answer (``ACTIVE``), an edit of a published
#: activity waits (``EDIT``), or neither.
ACTIVE = "active"
EDIT = "edit"
END = "end"
Step = PublishStep

STEP_LABELS: dict[Step, str] = {
    Step.TITLE: N_("Title"),
    Step.CATEGORY: N_("Kind of service"),
    Step.DESCRIPTION: N_("Description"),
    Step.START: N_("Date and time"),
    Step.END: N_("End"),
    Step.PLACE: N_("Place"),
    Step.LOCATION: N_("Map pin"),
    Step.AREA: N_("District"),
    Step.CAPACITY: N_("Volunteers needed"),
    Step.SKILLS: N_("Required skills"),
    Step.TRAINING: N_("Training required"),
    Step.ADULTS: N_("Adults only"),
    Step.PEOPLE: N_("People served"),
    Step.DEADLINE: N_("Sign-up deadline"),
    Step.LEADER: N_("Person in charge"),
    Step.KEY_DATE: N_("Key date"),
}


NOT_EDITABLE: dict[NotEditableReason, str] = {
    NotEditableReason.CANCELLED: N_("This activity was cancelled, so it can no longer be edited."),
    NotEditableReason.STARTED: N_(
        "This activity has already started, so it can no longer be edited."
    ),
    NotEditableReason.NOT_PUBLISHED: N_("This activity is not published, so it cannot be edited."),
}


def service(context: ZyContext) -> PublishingService:
    return context.services.publishing


def checked_label(selected: bool, label: str) -> str:
    return f"✓ {label}" if selected else label


def _save_row(t: Translator) -> list[InlineKeyboardButton]:
    return [button(t.gettext("💾 Save draft and stop"), "pub", "save")]


def invalid_text(t: Translator) -> str:
    return t.gettext("This button is no longer valid.")


def not_editable_text(t: Translator, error: WrongStep) -> str:
    if isinstance(error, NotEditable):
        return t.gettext(NOT_EDITABLE[error.reason])
    return t.gettext("This activity can no longer be edited.")


# ----------------------------------------------------------------------------------- screens


async def render(
    draft: ActivityDraft, context: ZyContext, *, month: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    svc = service(context)
    step = draft.step
    data = draft.data
    language = t.language.value
    number = list(EDITABLE_STEPS).index(step) + 1 if step in EDITABLE_STEPS else None
    total = len(EDITABLE_STEPS)
    progress = (
        t.gettext("New activity, step {number} of {total}").format(number=number, total=total)
        if number
        else t.gettext("New activity")
    )
    save = _save_row(t)

    if step is Step.TITLE:
        text = t.gettext(
            "{progress}: the <b>title</b> volunteers will see (2–60 characters), e.g. "
            "“Blood pressure checks for seniors”."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([save])
    if step is Step.CATEGORY:
        text = t.gettext("{progress}: the <b>kind of service</b>.").format(progress=progress)
        buttons = [
            button(
                checked_label(item.code == data.category_code, item.name(language)),
                "pub",
                "cat",
                item.code,
            )
            for item in await context.services.catalog.categories()
        ]
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), save])
    if step is Step.DESCRIPTION:
        text = t.gettext(
            "{progress}: a short <b>description</b>: what volunteers will do, what to bring "
            "(up to 1000 characters). You may skip it."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([[button(t.gettext("Skip"), "pub", "nodesc")], save])
    if step in (Step.START, Step.END):
        return _time_screen(draft, context, progress, month)
    if step is Step.PLACE:
        text = t.gettext(
            "{progress}: the <b>place</b> (address or meeting point, up to 100 characters)."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([save])
    if step is Step.LOCATION:
        text = t.gettext(
            "Optionally, send a <b>map pin</b> (📎 → Location) so volunteers nearby find the "
            "activity, or skip."
        )
        return text, InlineKeyboardMarkup([[button(t.gettext("Skip"), "pub", "noloc")], save])
    if step is Step.AREA:
        text = t.gettext("{progress}: the <b>district</b> where it takes place.").format(
            progress=progress
        )
        buttons = [
            button(
                checked_label(item.code == data.area_code, item.name(language)),
                "pub",
                "area",
                item.code,
            )
            for item in await context.services.catalog.areas()
        ]
        skip = button(t.gettext("Skip"), "pub", "noarea")
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [skip], save])
    if step is Step.CAPACITY:
        text = t.gettext(
            "{progress}: how many <b>volunteers</b> are needed? Type a number from 1 to 10,000."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([save])
    if step is Step.SKILLS:
        text = t.gettext(
            "{progress}: <b>required skills</b> (only volunteers with all of them can sign "
            "up). Tap to select, then Done; none is fine."
        ).format(progress=progress)
        buttons = [
            button(
                checked_label(item.code in data.required_skills, item.name(language)),
                "pub",
                "sk",
                item.code,
            )
            for item in await context.services.catalog.skills()
        ]
        done = button(t.gettext("Done ➡️"), "pub", "done")
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [done], save])
    if step in (Step.TRAINING, Step.ADULTS):
        if step is Step.TRAINING:
            text = t.gettext(
                "{progress}: do volunteers need <b>training</b> before serving?"
            ).format(progress=progress)
        else:
            text = t.gettext("{progress}: is it for <b>adults (18+) only</b>?").format(
                progress=progress
            )
        row = [button(t.gettext("Yes"), "pub", "yes"), button(t.gettext("No"), "pub", "no")]
        return text, InlineKeyboardMarkup([row, save])
    if step is Step.PEOPLE:
        text = t.gettext(
            "{progress}: <b>people served</b> (optional). Tap all that apply, then Done."
        ).format(progress=progress)
        buttons = [
            button(
                checked_label(group in data.people_served, t.gettext(PEOPLE_SERVED[group.value])),
                "pub",
                "pp",
                group.value,
            )
            for group in PeopleServed
        ]
        done = button(t.gettext("Done ➡️"), "pub", "done")
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [done], save])
    if step is Step.DEADLINE:
        text = t.gettext(
            "{progress}: a <b>sign-up deadline</b> before the start? Type it like the date "
            "(e.g. 12/3 18:00), or tap “No deadline” (sign-up stays open until the start)."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([[button(t.gettext("No deadline"), "pub", "nodl")], save])
    if step is Step.LEADER:
        suggestion = await svc.leader_suggestion(context.user.telegram_id)
        text = t.gettext(
            "{progress}: the <b>person in charge</b> (活动负责人) shown on records. Type a name "
            "or use yours."
        ).format(progress=progress)
        rows = (
            [[button(t.gettext("Use “{name}”").format(name=suggestion), "pub", "lead")]]
            if suggestion
            else []
        )
        return text, InlineKeyboardMarkup([*rows, save])
    if step is Step.KEY_DATE:
        choices = await svc.key_date_choices(data)
        names = ", ".join(k.name_zh if language == "zh" else k.name_en for k in choices)
        text = t.gettext(
            "The activity is close to <b>{names}</b>. Tag it, so it appears in the campaign?"
        ).format(names=html(names))
        buttons = [
            button(
                t.gettext("🏷 {name}").format(name=k.name_zh if language == "zh" else k.name_en),
                "pub",
                "kd",
                k.code,
            )
            for k in choices
        ]
        return text, InlineKeyboardMarkup(
            [buttons, [button(t.gettext("No tag"), "pub", "nokd")], save]
        )
    return await _preview_screen(draft, context)


def _time_screen(
    draft: ActivityDraft, context: ZyContext, progress: str, month: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    svc = service(context)
    data = draft.data
    if draft.step is Step.START:
        text = t.gettext(
            "{progress}: <b>when</b> is it? Type the date and time, e.g. 2026-12-05 09:00-11:30, "
            "12/5 9:00-11:30 or 12月5日 下午2点-4点, or pick the day below."
        ).format(progress=progress)
    else:
        assert data.starts_at is not None
        text = t.gettext(
            "Starts {start}. When does it <b>end</b>? Type a time (e.g. 11:30) or pick it below."
        ).format(start=short_when(t, data.starts_at))
    save = [_save_row(t)]
    if data.picked_day is not None and data.picked_hour is not None:
        text += "\n\n" + t.gettext("{day}: now the minutes.").format(
            day=t.format_day(data.picked_day)
        )
        return text, cal.minute_keyboard("pub", t, data.picked_hour, extra=save)
    if data.picked_day is not None:
        text += "\n\n" + t.gettext("{day}: now the hour.").format(day=t.format_day(data.picked_day))
        return text, cal.hour_keyboard("pub", t, extra=save)
    today = svc.today()
    shown = (
        data.starts_at.astimezone(svc.tz).date()
        if draft.step is Step.END and data.starts_at
        else today
    )
    year_month = cal.parse_month(month) if month is not None else None
    if year_month is None:
        year_month = (shown.year, shown.month)
    return text, cal.month_keyboard("pub", t, today, *year_month, extra=save)


async def _preview_screen(
    draft: ActivityDraft, context: ZyContext
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    svc = service(context)
    activity = await svc.preview(draft)
    names = await Names.load(context.services, t)
    card = card_text(t, activity, Viewer(profile=None), names, svc.now())
    extra: list[str] = []
    if activity.leader_name:
        extra.append(
            t.gettext("👤 Person in charge: {name}").format(name=html(activity.leader_name))
        )
    if activity.key_date:
        name = await svc.key_date_name(activity.key_date, t.language.value)
        extra.append(t.gettext("🏷 Key date: {name}").format(name=html(name)))
    header = t.gettext("<b>Preview</b> — this is how volunteers will see it:")
    text = "\n".join([header, "", card, *extra])
    rows = [
        [button(t.gettext("✅ Publish"), "pub", "publish")],
        [button(t.gettext("✏️ Edit a field"), "pub", "fields")],
        [
            button(t.gettext("💾 Save draft"), "pub", "save"),
            button(t.gettext("🗑 Discard"), "pub", "discard"),
        ],
    ]
    return text, InlineKeyboardMarkup(rows)


def _fields_keyboard(t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        button(t.gettext(STEP_LABELS[step]), "pub", "edit", step.value) for step in EDITABLE_STEPS
    ]
    back = button(t.gettext("⬅️ Back"), "pub", "show")
    return InlineKeyboardMarkup([*button_rows(buttons, 2), [back]])


async def present(
    update: Update,
    context: ZyContext,
    draft: ActivityDraft,
    *,
    notice: str | None = None,
    month: str | None = None,
) -> str:
    """Show the draft's step, owning the organizer's typed input for it first (a crash right
    after the question loses nothing); ``month`` is the calendar month being looked at."""
    text, markup = await render(draft, context, month=month)
    # Every pub: button says which step it was drawn for (see on_button).
    markup = stamped(markup, "pub", draft.step.value) or markup
    if notice:
        text = f"{notice}\n\n{text}"
    await take(context, PUBLISH_FLOW, draft.step.value)
    await show(update, text, markup)
    return ACTIVE


# ------------------------------------------------------------------------------------- entry


async def enter(update: Update, context: ZyContext) -> object:
    """/new: continue a draft, or pick the organization to publish for (administrators may pick
    any approved organization, also one they are no member of)."""
    await answer(update)
    t = context.t
    svc = service(context)
    user_id = context.user.telegram_id
    organizations = await context.services.staff.organizations_of(user_id)
    current = await svc.current_or_none(user_id)
    admin = await svc.is_admin(user_id)
    if not organizations and current is None and not admin:
        await send(
            update,
            t.gettext(
                "Only organizers of an approved organization can publish activities. "
                "Apply with /organize."
            ),
        )
        return END
    if current is None and len(organizations) == 1 and not admin:
        return await _start(update, context, organizations[0][0].organization_id)
    rows: list[list[InlineKeyboardButton]] = []
    if current is not None:
        title = current.data.title or t.gettext("(untitled)")
        rows.append(
            [button(t.gettext("▶️ Continue “{title}”").format(title=title[:30]), "pub", "cont")]
        )
    if admin and not organizations:
        text, markup = await _organizations_page(context, 0, rows)
        await send(update, text, markup)
        return ACTIVE
    for organization, _role in organizations:
        label = t.gettext("➕ New activity for {name}").format(name=organization.name[:30])
        rows.append([button(label, "pub", "new", organization.organization_id)])
    if admin:
        rows.append([button(t.gettext("🏢 Another organization…"), "pub", "orgs", 0)])
    await send(update, t.gettext("What would you like to do?"), InlineKeyboardMarkup(rows))
    return ACTIVE


async def _organizations_page(
    context: ZyContext, offset: int, rows: list[list[InlineKeyboardButton]] | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """An administrator's pick among the approved organizations (raises ``StaffRefused``)."""
    t = context.t
    organizations, total = await service(context).organizations_to_pick(
        context.user.telegram_id, offset
    )
    rows = list(rows or [])
    if not total:
        text = t.gettext(
            "There is no approved organization yet: approve an application in /admin first."
        )
        return text, InlineKeyboardMarkup(rows)
    size = ORGANIZATIONS_PAGE
    page, pages = offset // size + 1, page_count(total, size)
    text = t.gettext(
        "You are an administrator: choose the organization to publish for (page {page} of {pages})."
    ).format(page=page, pages=pages)
    rows.extend(
        [button(f"➕ {o.name[:40]}", "pub", "new", o.organization_id)] for o in organizations
    )
    navigation = []
    if offset > 0:
        navigation.append(button("‹", "pub", "orgs", max(offset - size, 0)))
    if offset + len(organizations) < total:
        navigation.append(button("›", "pub", "orgs", offset + len(organizations)))
    if navigation:
        rows.append(navigation)
    return text, InlineKeyboardMarkup(rows)


async def _start(update: Update, context: ZyContext, organization_id: int) -> object:
    try:
        draft = await service(context).start(context.user.telegram_id, organization_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    await answer(update)
    return await present(update, context, draft)


async def on_new(update: Update, context: ZyContext) -> object:
    parts = split(update.callback_query.data if update.callback_query else None)
    organization_id = parse_id(parts[2]) if len(parts) == 3 else None
    if organization_id is None:
        await answer(update, invalid_text(context.t))
        return END
    return await _start(update, context, organization_id)


async def on_resume(update: Update, context: ZyContext) -> object:
    parts = split(update.callback_query.data if update.callback_query else None)
    draft_id = parse_id(parts[2]) if len(parts) == 3 else None
    t = context.t
    if draft_id is None:
        await answer(update, invalid_text(t))
        return END
    try:
        draft = await service(context).resume(context.user.telegram_id, draft_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    except NoDraft:
        await answer(update, t.gettext("This draft was published or discarded."), alert=True)
        return END
    await answer(update)
    return await present(update, context, draft)


# ----------------------------------------------------------------------------------- answers


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    if message is None or message.text is None:
        return ACTIVE
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    language = t.language.value
    text = message.text
    try:
        draft = await svc.current(user_id)
    except NoDraft:
        return await _lost(update, context)
    setters = {
        Step.TITLE: lambda: svc.set_title(user_id, text),
        Step.DESCRIPTION: lambda: svc.set_description(user_id, text),
        Step.START: lambda: svc.set_start_text(user_id, text, language),
        Step.END: lambda: svc.set_end_text(user_id, text, language),
        Step.PLACE: lambda: svc.set_place(user_id, text),
        Step.CAPACITY: lambda: svc.set_capacity(user_id, text),
        Step.DEADLINE: lambda: svc.set_deadline(user_id, text, language),
        Step.LEADER: lambda: svc.set_leader(user_id, text),
    }
    setter = setters.get(draft.step)
    if setter is None:
        return await present(
            update, context, draft, notice=t.gettext("Please use the buttons below.")
        )
    try:
        draft = await setter()
    except InvalidInput as error:
        draft = await svc.current(user_id)
        return await present(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    return await present(update, context, draft)


async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    if message is None or message.location is None:
        return ACTIVE
    svc = service(context)
    user_id = context.user.telegram_id
    try:
        draft = await svc.set_location(
            user_id, message.location.latitude, message.location.longitude
        )
    except NoDraft:
        return await _lost(update, context)
    except WrongStep:
        draft = await svc.current(user_id)
        return await present(
            update, context, draft, notice=context.t.gettext("Please use the buttons below.")
        )
    return await present(update, context, draft)


async def on_button(update: Update, context: ZyContext) -> object:
    """Every other ``pub:`` press, checked against the draft's current step."""
    query = update.callback_query
    parts, drawn_for = unstamped(query.data if query else None)
    action = parts[1] if len(parts) > 1 else ""
    argument = parts[2] if len(parts) > 2 else ""
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    if action == "noop":
        await answer(update)
        return ACTIVE
    if drawn_for is not None:
        # A press on a screen of another step (further up the chat) acts on nothing: it is
        # refused, and neither the form nor that old message changes.
        current = await svc.current_or_none(user_id)
        if current is None:
            await answer(update)
            return await _lost(update, context)
        if drawn_for != current.step.value:
            await answer(
                update,
                t.gettext(
                    "This button belongs to an earlier step. Please go on with the latest "
                    "message below."
                ),
                alert=True,
            )
            return ACTIVE
    try:
        if action == "cal":
            month = cal.parse_month(argument)
            if month is None:
                raise WrongStep
            draft = await svc.current(user_id)
            if draft.step not in (Step.START, Step.END):
                raise WrongStep
            await answer(update)
            return await present(update, context, draft, month=argument)
        if action == "save":
            draft = await svc.current(user_id)
            await answer(update)
            title = draft.data.title or t.gettext("(untitled)")
            await show(
                update,
                t.gettext(
                    "💾 Draft “{title}” saved. Continue it any time with /new or from your "
                    "organization's drafts."
                ).format(title=html(title)),
            )
            return END
        if action == "discard":
            await svc.current(user_id)
            await answer(update)
            await show(
                update,
                t.gettext("Discard this draft? Its answers will be deleted."),
                InlineKeyboardMarkup(
                    [
                        [button(t.gettext("🗑 Yes, discard"), "pub", "discard_ok")],
                        [button(t.gettext("⬅️ Back"), "pub", "show")],
                    ]
                ),
            )
            return ACTIVE
        if action == "discard_ok":
            await svc.discard(user_id)
            await answer(update)
            await show(update, t.gettext("🗑 The draft is discarded."))
            return END
        if action == "fields":
            draft = await svc.current(user_id)
            if draft.step is not Step.PREVIEW:
                raise WrongStep
            await answer(update)
            await show(update, t.gettext("Which field do you want to change?"), _fields_keyboard(t))
            return ACTIVE
        if action == "publish":
            return await _publish(update, context)
        if action == "orgs":
            page = parse_int(argument, 6)
            if page is None:
                raise WrongStep
            text, markup = await _organizations_page(context, page)
            await answer(update)
            await show(update, text, markup)
            return ACTIVE
        draft = await _apply(svc, user_id, action, argument)
    except NoDraft:
        await answer(update)
        return await _lost(update, context)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    except WrongStep:
        await answer(update, invalid_text(t))
        try:
            draft = await svc.current(user_id)
        except NoDraft:
            return await _lost(update, context)
        return await present(update, context, draft)
    except InvalidInput as error:
        await answer(update, error.translate(t.gettext), alert=True)
        draft = await svc.current(user_id)
        return await present(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
    await answer(update)
    return await present(update, context, draft)


async def _apply(svc: PublishingService, user_id: int, action: str, argument: str) -> ActivityDraft:
    def number() -> int:
        value = parse_int(argument, 4)
        if value is None:
            raise WrongStep
        return value

    if action in ("cont", "show"):
        return await svc.current(user_id)
    if action == "cat":
        return await svc.set_category(user_id, argument)
    if action == "nodesc":
        return await svc.set_description(user_id, None)
    if action == "day":
        day = cal.parse_day(argument)
        if day is None:
            raise WrongStep
        return await svc.pick_day(user_id, day)
    if action == "hr":
        return await svc.pick_hour(user_id, number())
    if action == "min":
        return await svc.pick_minute(user_id, number())
    if action == "unpick":
        return await svc.unpick(user_id)
    if action == "noloc":
        return await svc.set_location(user_id, None, None)
    if action == "area":
        return await svc.set_area(user_id, argument)
    if action == "noarea":
        return await svc.set_area(user_id, None)
    if action == "sk":
        return await svc.toggle_skill(user_id, argument)
    if action == "pp":
        return await svc.toggle_people(user_id, argument)
    if action == "done":
        return await svc.done(user_id)
    if action in ("yes", "no"):
        return await svc.set_flag(user_id, action == "yes")
    if action == "nodl":
        return await svc.set_deadline(user_id, None, "en")
    if action == "lead":
        return await svc.set_leader(user_id, None)
    if action == "kd":
        return await svc.set_key_date(user_id, argument)
    if action == "nokd":
        return await svc.set_key_date(user_id, None)
    if action == "edit":
        try:
            step = Step(argument)
        except ValueError:
            raise WrongStep from None
        return await svc.edit_from_preview(user_id, step)
    raise WrongStep


async def _publish(update: Update, context: ZyContext) -> object:
    svc = service(context)
    t = context.t
    try:
        activity = await svc.publish(context.user.telegram_id)
    except InvalidInput as error:
        await answer(update, error.translate(t.gettext), alert=True)
        draft = await svc.current(context.user.telegram_id)
        return await present(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
    await answer(update)
    text = t.gettext(
        "🎉 <b>{title}</b> is published ({when}). Volunteers can now find it in the service "
        "menu and sign up."
    ).format(title=html(activity.title), when=when(t, activity))
    rows = [
        [button(t.gettext("🔎 Open the card"), "act", activity.activity_id, NOWHERE)],
        [button(t.gettext("✏️ Edit"), "ed", activity.activity_id)],
        [button(t.gettext("📋 Manage the activity"), "mg", "a", activity.activity_id)],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))
    return END


async def cancel(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    await send(
        update,
        context.t.gettext("Stopped. A draft keeps its answers: continue any time with /new."),
    )
    return END


async def _lost(update: Update, context: ZyContext) -> object:
    """No draft (any more). Only someone who may publish is pointed to /new; anyone else
    pressed a forged or foreign button and is told just that (issue #13 item 8)."""
    t = context.t
    user_id = context.user.telegram_id
    staff = context.services.staff
    if await staff.is_admin(user_id) or await staff.organizations_of(user_id):
        text = t.gettext("This draft was published or discarded. Start a new one with /new.")
    else:
        text = t.gettext("This button is no longer valid.")
    await send(update, text)
    return END


# -------------------------------------------------------------------------------- wiring


def owning(flow: str, handler: Callable[[Update, ZyContext], Awaitable[object]]) -> Any:
    """A press or command of ``flow``: a screen that does not wait for an answer (``END``)
    gives the typed input back, if ``flow`` had it (a form left half-way elsewhere keeps it);
    one that waits took it before it was shown (:func:`present`, :func:`_keep_edit`), and a
    chooser that waits (ACTIVE without a step) takes it after."""

    async def wrapped(update: Update, context: ZyContext) -> None:
        result = await handler(update, context)
        if result == END:
            await release(context, flow)
        elif await owned_by(context, flow) is None and result in (ACTIVE, EDIT):
            await take(context, flow, "choose")

    return wrapped


def typed(flow: str, handler: FlowHandler) -> FlowHandler:
    async def wrapped(update: Update, context: ZyContext, owner: FlowOwner) -> None:
        if await handler(update, context, owner) == END:
            await release(context, flow)

    return wrapped


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """A photo, a contact … where an answer was asked: show the step again."""
    svc = service(context)
    try:
        draft = await svc.current(context.user.telegram_id)
    except NoDraft:
        return await _lost(update, context)
    notice = context.t.gettext("Please use the buttons below.")
    return await present(update, context, draft, notice=notice)


PUBLISH_FLOW = "publish"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(
        PUBLISH_FLOW,
        on_text=typed(PUBLISH_FLOW, on_text),
        on_location=typed(PUBLISH_FLOW, on_location),
        on_other=typed(PUBLISH_FLOW, on_other),
        on_cancel=cancel,
    ),
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("new", owning(PUBLISH_FLOW, enter)))
    application.add_handler(
        CallbackQueryHandler(owning(PUBLISH_FLOW, on_new), pattern=r"^pub:new:")
    )
    application.add_handler(
        CallbackQueryHandler(owning(PUBLISH_FLOW, on_resume), pattern=r"^pub:draft:")
    )
    application.add_handler(CallbackQueryHandler(owning(PUBLISH_FLOW, on_button), pattern=r"^pub:"))
