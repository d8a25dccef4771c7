"""Publishing an activity (``/new``, ``pub:``) and editing a published one (``ed:``).

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
    [*] --> EDIT_MENU: ed:<activity_id>
    EDIT_MENU --> EDIT_VALUE: choose a typed field, or the map pin (send a location)
    EDIT_MENU --> EDIT_PICK: skills, people served (ed:<id>:t:<code> toggles)
    EDIT_MENU --> EDIT_CONFIRM: choose a button value (category, flags, district, key date, no pin)
    EDIT_PICK --> EDIT_CONFIRM: Done (ed:<id>:d)
    EDIT_VALUE --> EDIT_CONFIRM: a valid value
    EDIT_CONFIRM --> EDIT_CONFIRM: capacity drop: toggle whom to move
    EDIT_CONFIRM --> [*]: confirm (volunteers notified of time, place, pin) / cancel
```
EDIT_MENU, EDIT_VALUE, EDIT_PICK and EDIT_CONFIRM are the ``publish_edit`` flow; the pending
field and value live in its stored state and every press or answer re-authorizes.
The form's steps are drawn in :mod:`bot.services.publishing`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, ActivityStatus, PeopleServed, SignupStatus, page_count
from bot.domain.flows import FlowOwner, FlowState
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.publishing import (
    EDITABLE_STEPS,
    MULTI_EDITS,
    NEWS_EDITS,
    ORGANIZATIONS_PAGE,
    ActivityDraft,
    CapacityChanged,
    EditField,
    NoDraft,
    NotEditable,
    NotEditableReason,
    PublishingService,
    PublishStep,
    WrongStep,
    format_pin,
    toggled,
)
from bot.services.signups import SignupRefused, Viewer
from bot.services.staff import StaffRefused
from handlers import calendar_keyboard as cal
from handlers.activity_view import NOWHERE, PEOPLE_SERVED, Names, card_text, short_when, when
from handlers.callbacks import button, button_rows, parse_id, parse_int, split
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

EDIT_LABELS: dict[EditField, str] = {
    EditField.TITLE: N_("Title"),
    EditField.CATEGORY: N_("Kind of service"),
    EditField.DESCRIPTION: N_("Description"),
    EditField.WHEN: N_("Date and time"),
    EditField.PLACE: N_("Place"),
    EditField.CAPACITY: N_("Volunteers needed"),
    EditField.DEADLINE: N_("Sign-up deadline"),
    EditField.LEADER: N_("Person in charge"),
    EditField.TRAINING: N_("Training required"),
    EditField.ADULTS: N_("Adults only"),
    EditField.SKILLS: N_("Required skills"),
    EditField.PEOPLE: N_("People served"),
    EditField.AREA: N_("District"),
    EditField.PIN: N_("Map pin"),
    EditField.KEY_DATE: N_("Key date"),
}

NOT_EDITABLE: dict[NotEditableReason, str] = {
    NotEditableReason.CANCELLED: N_("This activity was cancelled, so it can no longer be edited."),
    NotEditableReason.STARTED: N_(
        "This activity has already started, so it can no longer be edited."
    ),
    NotEditableReason.NOT_PUBLISHED: N_("This activity is not published, so it cannot be edited."),
}

TYPED_EDITS = {
    EditField.TITLE,
    EditField.DESCRIPTION,
    EditField.WHEN,
    EditField.PLACE,
    EditField.CAPACITY,
    EditField.DEADLINE,
    EditField.LEADER,
}


def service(context: ZyContext) -> PublishingService:
    return context.services.publishing


def _check(selected: bool, label: str) -> str:
    return f"✓ {label}" if selected else label


def _save_row(t: Translator) -> list[InlineKeyboardButton]:
    return [button(t.gettext("💾 Save draft and stop"), "pub", "save")]


def _invalid_text(t: Translator) -> str:
    return t.gettext("This button is no longer valid.")


def _not_editable_text(t: Translator, error: WrongStep) -> str:
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
                _check(item.code == data.category_code, item.name(language)),
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
                _check(item.code == data.area_code, item.name(language)), "pub", "area", item.code
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
                _check(item.code in data.required_skills, item.name(language)),
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
                _check(group in data.people_served, t.gettext(PEOPLE_SERVED[group.value])),
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
        await answer(update, _invalid_text(context.t))
        return END
    return await _start(update, context, organization_id)


async def on_resume(update: Update, context: ZyContext) -> object:
    parts = split(update.callback_query.data if update.callback_query else None)
    draft_id = parse_id(parts[2]) if len(parts) == 3 else None
    t = context.t
    if draft_id is None:
        await answer(update, _invalid_text(t))
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
    parts = split(query.data if query else None)
    action = parts[1] if len(parts) > 1 else ""
    argument = parts[2] if len(parts) > 2 else ""
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    if action == "noop":
        await answer(update)
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
        await answer(update, _invalid_text(t))
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
    await send(
        update,
        context.t.gettext("This draft was published or discarded. Start a new one with /new."),
    )
    return END


# ------------------------------------------------------------------------ editing published


def _back_to_activity(t: Translator, activity_id: int) -> InlineKeyboardButton:
    """Back to the activity's management card (handlers.manage), where editing started."""
    return button(t.gettext("⬅️ Back to the activity"), "mg", "a", activity_id)


async def _edit_state(context: ZyContext) -> FlowState:
    """The pending edit (``a`` activity, ``f`` field, ``v`` value, ``mv`` whom to move), kept
    in the ``publish_edit`` flow's state while it owns the organizer's typed input."""
    owner = await owned_by(context, EDIT_FLOW)
    return dict(owner.state) if owner is not None else {}


def _to_move(state: FlowState) -> list[int]:
    """The sign-ups chosen to go back to the waitlist when capacity drops."""
    moving = state.get("mv")
    return [item for item in moving if isinstance(item, int)] if isinstance(moving, list) else []


async def _keep_edit(context: ZyContext, state: FlowState) -> None:
    """Store the pending edit before its screen is shown (a crash right after loses nothing)."""
    field = state.get("f")
    await take(context, EDIT_FLOW, field if isinstance(field, str) else "menu", state)


async def on_edit(update: Update, context: ZyContext) -> object:
    """Every ``ed:`` press: ``ed:<id>`` (menu), ``ed:<id>:f:<field>``, ``ed:<id>:v:<value>``
    (a button value, ``-`` for none), ``ed:<id>:t:<code>`` (toggle a skill or a group served),
    ``ed:<id>:d`` (done choosing), ``ed:<id>:mv:<signup>`` (toggle whom to move),
    ``ed:<id>:ok`` and ``ed:<id>:no``. Each press is re-authorized before anything else."""
    parts = split(update.callback_query.data if update.callback_query else None)
    t = context.t
    svc = service(context)
    user_id = context.user.telegram_id
    activity_id = parse_id(parts[1]) if len(parts) > 1 else None
    action = parts[2] if len(parts) > 2 else ""
    argument = parts[3] if len(parts) > 3 else ""
    if activity_id is None:
        await answer(update, _invalid_text(t))
        return END
    try:
        activity = await svc.editable(user_id, activity_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    except WrongStep as error:
        await answer(update, _not_editable_text(t, error), alert=True)
        return END
    state = await _edit_state(context)
    if action == "":
        await _keep_edit(context, {"a": activity_id})
        await answer(update)
        buttons = [
            button(t.gettext(label), "ed", activity_id, "f", edit.value)
            for edit, label in EDIT_LABELS.items()
        ]
        await show(
            update,
            t.gettext("✏️ <b>{title}</b>\nWhich field do you want to change?").format(
                title=html(activity.title)
            ),
            InlineKeyboardMarkup([*button_rows(buttons, 2), [_back_to_activity(t, activity_id)]]),
        )
        return EDIT
    if action == "f":
        try:
            edit = EditField(argument)
        except ValueError:
            await answer(update, _invalid_text(t))
            return END
        await answer(update)
        state = {"a": activity_id, "f": edit.value}
        if edit in MULTI_EDITS:
            state["v"] = _current_value(edit, activity)
        await _keep_edit(context, state)
        text, markup = await _field_screen(context, activity, edit, str(state.get("v", "")))
        await show(update, text, markup)
        return EDIT
    field = state.get("f")
    if state.get("a") != activity_id or not isinstance(field, str):
        await answer(update, _invalid_text(t))
        return END
    edit = EditField(field)
    if action == "v":
        # Only fields chosen with buttons take a pressed value; the map pin only "none".
        if (
            edit in TYPED_EDITS
            or edit in MULTI_EDITS
            or (edit is EditField.PIN and argument != "-")
        ):
            await answer(update, _invalid_text(t))
            return EDIT
        await answer(update)
        value = "" if argument == "-" else argument
        state["v"] = value
        state.pop("mv", None)
        return await _confirm_screen(update, context, state, activity_id, edit, value)
    if action == "t":
        choices = dict(await _choices(context, activity, edit)) if edit in MULTI_EDITS else {}
        if argument not in choices:
            await answer(update, _invalid_text(t))
            return EDIT
        await answer(update)
        chosen_codes = toggled(str(state.get("v", "")), argument)
        state["v"] = chosen_codes
        await _keep_edit(context, state)
        text, markup = await _field_screen(context, activity, edit, chosen_codes)
        await show(update, text, markup)
        return EDIT
    if action == "d":
        if edit not in MULTI_EDITS:
            await answer(update, _invalid_text(t))
            return EDIT
        await answer(update)
        return await _confirm_screen(
            update, context, state, activity_id, edit, str(state.get("v", ""))
        )
    if action == "mv":
        signup_id = parse_id(argument)
        moving = state.get("mv")
        chosen = (
            [item for item in moving if isinstance(item, int)] if isinstance(moving, list) else []
        )
        if signup_id is not None:
            if signup_id in chosen:
                chosen.remove(signup_id)
            else:
                chosen.append(signup_id)
        state["mv"] = chosen
        await answer(update)
        return await _confirm_screen(
            update, context, state, activity_id, edit, str(state.get("v", "")), keep=True
        )
    if action == "ok":
        return await _apply_edit(update, context, activity_id, edit, state)
    if action == "no":
        await answer(update)
        await release(context, EDIT_FLOW)
        await show(update, t.gettext("Nothing was changed."))
        return END
    await answer(update, _invalid_text(t))
    return END


def _current_value(edit: EditField, activity: Activity) -> str:
    """A multi-select field's value now, as the comma-joined codes the edit takes."""
    if edit is EditField.SKILLS:
        return ",".join(activity.required_skills)
    if edit is EditField.PEOPLE:
        return ",".join(group.value for group in activity.people_served)
    return ""


async def _choices(
    context: ZyContext, activity: Activity, edit: EditField
) -> list[tuple[str, str]]:
    """The codes and labels offered for a field chosen with buttons. Retired catalog entries
    stay offered while the activity still uses them (so they can be removed)."""
    t = context.t
    language = t.language.value
    catalog = context.services.catalog
    if edit is EditField.SKILLS:
        items = await catalog.skills(include_inactive=True)
        keep = set(activity.required_skills)
        return [(i.code, i.name(language)) for i in items if i.is_active or i.code in keep]
    if edit is EditField.PEOPLE:
        return [(g.value, t.gettext(PEOPLE_SERVED[g.value])) for g in PeopleServed]
    if edit is EditField.AREA:
        items = await catalog.areas(include_inactive=True)
        return [
            (i.code, i.name(language)) for i in items if i.is_active or i.code == activity.area_code
        ]
    if edit is EditField.CATEGORY:
        return [(i.code, i.name(language)) for i in await catalog.categories()]
    if edit is EditField.KEY_DATE:
        tags = await service(context).key_dates_for(activity)
        return [(k.code, k.name(language)) for k in tags]
    return []


async def _field_screen(
    context: ZyContext, activity: Activity, edit: EditField, value: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The screen asking for a new value of one field of a published activity."""
    t = context.t
    aid = activity.activity_id
    cancel_row = [button(t.gettext("✖️ Cancel"), "ed", aid, "no")]
    if edit in TYPED_EDITS:
        return _edit_prompt(t, edit, activity), None
    if edit in (EditField.TRAINING, EditField.ADULTS):
        row = [
            button(t.gettext("Yes"), "ed", aid, "v", "1"),
            button(t.gettext("No"), "ed", aid, "v", "0"),
        ]
        question = t.gettext("{field}?").format(field=t.gettext(EDIT_LABELS[edit]))
        return question, InlineKeyboardMarkup([row, cancel_row])
    if edit is EditField.PIN:
        current = (
            t.gettext("📍 set (tap “Show on map” on the card to see it)")
            if activity.has_location
            else "—"
        )
        text = t.gettext(
            "<b>Map pin</b> now: {current}\n\nSend the new pin (📎 → Location) for "
            "{place}.\n/cancel to stop."
        ).format(current=current, place=html(activity.place))
        rows = [cancel_row]
        if activity.has_location:
            rows.insert(0, [button(t.gettext("🗑 Remove the map pin"), "ed", aid, "v", "-")])
        return text, InlineKeyboardMarkup(rows)
    choices = await _choices(context, activity, edit)
    if edit in MULTI_EDITS:
        selected = set(value.split(","))
        buttons = [
            button(_check(code in selected, label), "ed", aid, "t", code) for code, label in choices
        ]
        if edit is EditField.SKILLS:
            text = t.gettext(
                "<b>Required skills</b>: tap to select, then Done. Volunteers already signed up "
                "keep their places; the skills apply to new sign-ups."
            )
        else:
            text = t.gettext("<b>People served</b>: tap all that apply, then Done.")
        done = button(t.gettext("Done ➡️"), "ed", aid, "d")
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [done], cancel_row])
    current_code = {
        EditField.CATEGORY: activity.category_code,
        EditField.AREA: activity.area_code,
        EditField.KEY_DATE: activity.key_date,
    }.get(edit)
    buttons = [
        button(_check(code == current_code, label), "ed", aid, "v", code) for code, label in choices
    ]
    rows = button_rows(buttons, 2)
    if edit is EditField.CATEGORY:
        text = t.gettext("Choose the kind of service.")
    elif edit is EditField.AREA:
        text = t.gettext("Choose the <b>district</b> where it takes place.")
        rows.append([button(t.gettext("No district"), "ed", aid, "v", "-")])
    else:
        text = (
            t.gettext("Tag it with the key date near its day, so it appears in the campaign?")
            if choices
            else t.gettext("No key date is near this activity's day.")
        )
        rows.append([button(t.gettext("No tag"), "ed", aid, "v", "-")])
    return text, InlineKeyboardMarkup([*rows, cancel_row])


def _edit_prompt(t: Translator, edit: EditField, activity: Any) -> str:
    current = {
        EditField.TITLE: html(activity.title),
        EditField.DESCRIPTION: html(activity.description) or "—",
        EditField.WHEN: when(t, activity),
        EditField.PLACE: html(activity.place),
        EditField.CAPACITY: str(activity.capacity),
        EditField.DEADLINE: (
            short_when(t, activity.signup_deadline) if activity.signup_deadline else "—"
        ),
        EditField.LEADER: html(activity.leader_name or "—"),
    }[edit]
    hint = {
        EditField.WHEN: t.gettext("Type the new date and time, e.g. 12/5 9:00-11:30."),
        EditField.DEADLINE: t.gettext("Type the new deadline (e.g. 12/3 18:00), or - for none."),
        EditField.CAPACITY: t.gettext("Type the number of volunteers needed (1–10,000)."),
    }.get(edit, t.gettext("Type the new value."))
    return t.gettext("<b>{field}</b> now: {current}\n\n{hint}\n/cancel to stop.").format(
        field=t.gettext(EDIT_LABELS[edit]), current=current, hint=hint
    )


async def _pending_edit(update: Update, context: ZyContext) -> tuple[Activity, EditField] | None:
    """The edit waiting for a typed answer or a pin, re-authorized; ``None`` after telling the
    user why not (refused, no longer editable, nothing pending)."""
    t = context.t
    state = await _edit_state(context)
    activity_id = state.get("a")
    field = state.get("f")
    if not isinstance(activity_id, int) or not isinstance(field, str):
        return None
    try:
        activity = await service(context).editable(context.user.telegram_id, activity_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return None
    except WrongStep as error:
        await send(update, _not_editable_text(t, error))
        return None
    return activity, EditField(field)


async def on_edit_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    if message is None or message.text is None:
        return EDIT
    t = context.t
    pending = await _pending_edit(update, context)
    if pending is None:
        return END
    activity, edit = pending
    if edit not in TYPED_EDITS:
        return await _reask(update, context, activity, edit)
    try:
        value = service(context).parse_edit(activity, edit, message.text, t.language.value)
    except InvalidInput as error:
        await send(
            update, "⚠️ " + error.translate(t.gettext) + "\n\n" + _edit_prompt(t, edit, activity)
        )
        return EDIT
    state = dict(owner.state)
    state["v"] = value
    state.pop("mv", None)
    return await _confirm_screen(update, context, state, activity.activity_id, edit, value)


async def on_edit_location(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """A Telegram location while editing: the new map pin."""
    message = update.effective_message
    if message is None or message.location is None:
        return EDIT
    pending = await _pending_edit(update, context)
    if pending is None:
        return END
    activity, edit = pending
    if edit is not EditField.PIN:
        return await _reask(update, context, activity, edit)
    value = format_pin(message.location.latitude, message.location.longitude)
    state = dict(owner.state)
    state["v"] = value
    state.pop("mv", None)
    return await _confirm_screen(update, context, state, activity.activity_id, edit, value)


async def _reask(update: Update, context: ZyContext, activity: Activity, edit: EditField) -> object:
    """An answer of the wrong kind (text for a button field, a pin for a typed one)."""
    t = context.t
    text, markup = await _field_screen(
        context, activity, edit, str((await _edit_state(context)).get("v", ""))
    )
    notice = (
        t.gettext("Please send a location (📎 → Location).")
        if edit is EditField.PIN
        else t.gettext("Please use the buttons below.")
        if markup is not None
        else t.gettext("Please type the new value.")
    )
    await send(update, f"{notice}\n\n{text}", markup)
    return EDIT


async def _confirm_screen(
    update: Update,
    context: ZyContext,
    state: FlowState,
    activity_id: int,
    edit: EditField,
    value: str,
    *,
    keep: bool = False,
) -> object:
    t = context.t
    svc = service(context)
    activity = await svc.editable(context.user.telegram_id, activity_id)
    shown = await _shown_value(context, activity, edit, value)
    lines = [
        t.gettext("Change <b>{field}</b> of “{title}” to: {value}").format(
            field=t.gettext(EDIT_LABELS[edit]), title=html(activity.title), value=shown
        )
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if edit in NEWS_EDITS:
        people = activity.confirmed_count + activity.offered_count + activity.waitlist_count
        if people:
            lines.append(
                t.ngettext(
                    "{n} signed-up or waiting volunteer will be told.",
                    "{n} signed-up or waiting volunteers will be told.",
                    people,
                ).format(n=people)
            )
    if edit is EditField.PLACE and activity.has_location:
        lines.append(
            t.gettext(
                "The map pin of the old place is removed; send a new one with “Map pin” afterwards."
            )
        )
    stricter = (
        edit is EditField.SKILLS
        and bool(set(value.split(",")) - {""} - set(activity.required_skills))
    ) or (edit in (EditField.TRAINING, EditField.ADULTS) and value == "1")
    if stricter and activity.taken:
        lines.append(
            t.ngettext(
                "The {n} volunteer already signed up keeps the place; the new requirement "
                "applies to new sign-ups.",
                "The {n} volunteers already signed up keep their places; the new requirement "
                "applies to new sign-ups.",
                activity.taken,
            ).format(n=activity.taken)
        )
    if edit is EditField.CAPACITY:
        plan = await svc.capacity_plan(activity, int(value))
        if plan is not None:
            if not keep or "mv" not in state:
                state["mv"] = list(plan.default)
            chosen = set(_to_move(state))
            lines.append(
                t.ngettext(
                    "{taken} spots are taken, so {n} volunteer must go back to the waitlist "
                    "(at its head). By default the last to sign up; tap to change, then confirm.",
                    "{taken} spots are taken, so {n} volunteers must go back to the waitlist "
                    "(at its head). By default the last to sign up; tap to change, then confirm.",
                    plan.needed,
                ).format(taken=activity.taken, n=plan.needed)
            )
            lines.append(
                t.gettext("Selected: {count} of {needed}").format(
                    count=len(chosen), needed=plan.needed
                )
            )
            for person in plan.candidates:
                label = person.name or t.gettext("(deleted account)")
                if person.status is SignupStatus.OFFERED:
                    label = t.gettext("{name} (offered)").format(name=label)
                rows.append(
                    [
                        button(
                            ("☑️ " if person.signup_id in chosen else "⬜ ") + label[:40],
                            "ed",
                            activity_id,
                            "mv",
                            person.signup_id,
                        )
                    ]
                )
    rows.append(
        [
            button(t.gettext("✅ Confirm"), "ed", activity_id, "ok"),
            button(t.gettext("✖️ Cancel"), "ed", activity_id, "no"),
        ]
    )
    text = "\n\n".join(lines)
    await _keep_edit(context, state)
    await show(update, text, InlineKeyboardMarkup(rows))
    return EDIT


async def _shown_value(context: ZyContext, activity: Activity, edit: EditField, value: str) -> str:
    t = context.t
    if edit is EditField.WHEN:
        start_text, _, end_text = value.partition("/")
        start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
        return t.format_span(start, end)
    if edit is EditField.DEADLINE:
        if not value:
            return t.gettext("no deadline")
        moment = datetime.fromisoformat(value)
        return short_when(t, moment)
    if edit in (EditField.TRAINING, EditField.ADULTS):
        return t.gettext("Yes") if value == "1" else t.gettext("No")
    if edit is EditField.PIN:
        if not value:
            return t.gettext("no map pin")
        latitude, _, longitude = value.partition(",")
        return html(f"📍 {float(latitude):.5f}, {float(longitude):.5f}")
    if edit in (EditField.SKILLS, EditField.PEOPLE, EditField.AREA, EditField.KEY_DATE):
        labels = dict(await _choices(context, activity, edit))
        codes = [code for code in value.split(",") if code]
        if not codes:
            return {
                EditField.SKILLS: t.gettext("no required skills"),
                EditField.PEOPLE: t.gettext("not specified"),
                EditField.AREA: t.gettext("no district"),
                EditField.KEY_DATE: t.gettext("no tag"),
            }[edit]
        return html(t.gettext(", ").join(labels.get(code, code) for code in codes))
    return html(value) or "—"


async def _apply_edit(
    update: Update, context: ZyContext, activity_id: int, edit: EditField, state: FlowState
) -> object:
    t = context.t
    svc = service(context)
    value = state.get("v")
    if not isinstance(value, str):
        await answer(update, _invalid_text(t))
        return END
    try:
        result = await svc.apply_edit(
            context.user.telegram_id, activity_id, edit, value, move=_to_move(state)
        )
    except CapacityChanged:
        await answer(
            update, t.gettext("The sign-ups changed meanwhile. Please choose again."), alert=True
        )
        state.pop("mv", None)
        return await _confirm_screen(update, context, state, activity_id, edit, value)
    except InvalidInput as error:
        await answer(update, error.translate(t.gettext), alert=True)
        return EDIT
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    except WrongStep as error:
        await answer(update, _not_editable_text(t, error), alert=True)
        return END
    await answer(update)
    await release(context, EDIT_FLOW)
    lines = [t.gettext("✅ Saved.")]
    if result.notified:
        lines.append(
            t.ngettext(
                "{n} volunteer is being told.", "{n} volunteers are being told.", result.notified
            ).format(n=result.notified)
        )
    if result.moved:
        lines.append(
            t.ngettext(
                "{n} volunteer moved to the waitlist.",
                "{n} volunteers moved to the waitlist.",
                len(result.moved),
            ).format(n=len(result.moved))
        )
    rows = [
        [button(t.gettext("✏️ Edit another field"), "ed", activity_id)],
        [_back_to_activity(t, activity_id)],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    nudge_outbox(context)
    return END


# ----------------------------------------------------------------------------- notifications


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
    if what == "time":
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
    elif what == "place":
        if value != activity.place:
            return None
        text = t.gettext(
            "📍 <b>Place changed</b> for <b>{title}</b> ({when}).\nNow: {place}"
        ).format(title=html(activity.title), when=when(t, activity), place=html(activity.place))
    elif what == "pin":
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
    if what == "pin" and activity.has_location:
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


# -------------------------------------------------------------------------------- wiring


def _owning(flow: str, handler: Callable[[Update, ZyContext], Awaitable[object]]) -> Any:
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


def _typed(flow: str, handler: FlowHandler) -> FlowHandler:
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
EDIT_FLOW = "publish_edit"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(
        PUBLISH_FLOW,
        on_text=_typed(PUBLISH_FLOW, on_text),
        on_location=_typed(PUBLISH_FLOW, on_location),
        on_other=_typed(PUBLISH_FLOW, on_other),
        on_cancel=cancel,
    ),
    Flow(
        EDIT_FLOW,
        on_text=_typed(EDIT_FLOW, on_edit_text),
        on_location=_typed(EDIT_FLOW, on_edit_location),
        on_cancel=cancel,
    ),
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("new", _owning(PUBLISH_FLOW, enter)))
    application.add_handler(
        CallbackQueryHandler(_owning(PUBLISH_FLOW, on_new), pattern=r"^pub:new:")
    )
    application.add_handler(
        CallbackQueryHandler(_owning(PUBLISH_FLOW, on_resume), pattern=r"^pub:draft:")
    )
    application.add_handler(CallbackQueryHandler(_owning(EDIT_FLOW, on_edit), pattern=r"^ed:"))
    application.add_handler(
        CallbackQueryHandler(_owning(PUBLISH_FLOW, on_button), pattern=r"^pub:")
    )


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ACTIVITY_CHANGED: render_changed,
    NotificationKind.MOVED_TO_WAITLIST: render_moved,
}
