"""Editing a published activity (``ed:``, from its management card): every field, with the
volunteers told of time and place changes and, when capacity drops, a choice of whom to move to
the waitlist.

```mermaid
stateDiagram-v2
    [*] --> EDIT_MENU: ed:<activity_id>
    EDIT_MENU --> EDIT_VALUE: choose a typed field, or the map pin (send a location)
    EDIT_MENU --> EDIT_PICK: skills, people served (ed:<id>:t:<code> toggles)
    EDIT_MENU --> EDIT_CONFIRM: choose a button value (category, flags, district, key date, no pin)
    EDIT_PICK --> EDIT_CONFIRM: Done (ed:<id>:d)
    EDIT_VALUE --> EDIT_CONFIRM: a valid value
    EDIT_CONFIRM --> EDIT_CONFIRM: capacity drop: toggle whom to move
    EDIT_CONFIRM --> [*]: confirm (volunteers notified of time, place, pin) / cancel
```
The states are the ``publish_edit`` flow (:mod:`handlers.flows`); the pending field and value
live in its stored state, and every press or answer is re-authorized by
:class:`bot.services.publishing.PublishingService`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import ZyContext, nudge_outbox
from bot.domain.activities import Activity, PeopleServed, SignupStatus
from bot.domain.flows import FlowOwner, FlowState
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.publishing import (
    MULTI_EDITS,
    NEWS_EDITS,
    CapacityChanged,
    EditField,
    WrongStep,
    format_pin,
    toggled,
)
from bot.services.staff import StaffRefused
from handlers.activity_view import PEOPLE_SERVED, short_when, when
from handlers.callbacks import button, button_rows, parse_id, stamped, unstamped
from handlers.flows import Flow, owned_by, release, take
from handlers.publish import (
    EDIT,
    END,
    cancel,
    checked_label,
    invalid_text,
    not_editable_text,
    owning,
    service,
    typed,
)
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

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

TYPED_EDITS = {
    EditField.TITLE,
    EditField.DESCRIPTION,
    EditField.WHEN,
    EditField.PLACE,
    EditField.CAPACITY,
    EditField.DEADLINE,
    EditField.LEADER,
}


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
    parts, drawn_for = unstamped(update.callback_query.data if update.callback_query else None)
    t = context.t
    svc = service(context)
    user_id = context.user.telegram_id
    activity_id = parse_id(parts[1]) if len(parts) > 1 else None
    action = parts[2] if len(parts) > 2 else ""
    argument = parts[3] if len(parts) > 3 else ""
    if activity_id is None:
        await answer(update, invalid_text(t))
        return END
    try:
        activity = await svc.editable(user_id, activity_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    except WrongStep as error:
        await answer(update, not_editable_text(t, error), alert=True)
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
            await answer(update, invalid_text(t))
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
        await answer(update, invalid_text(t))
        return END
    if drawn_for is not None and drawn_for != field:
        # Drawn for another field than the one being edited now: refused, nothing changes.
        await answer(
            update,
            t.gettext(
                "This button belongs to an earlier step. Please go on with the latest message "
                "below."
            ),
            alert=True,
        )
        return EDIT
    edit = EditField(field)
    if action == "v":
        # Only fields chosen with buttons take a pressed value; the map pin only "none".
        if (
            edit in TYPED_EDITS
            or edit in MULTI_EDITS
            or (edit is EditField.PIN and argument != "-")
        ):
            await answer(update, invalid_text(t))
            return EDIT
        await answer(update)
        value = "" if argument == "-" else argument
        state["v"] = value
        state.pop("mv", None)
        return await _confirm_screen(update, context, state, activity_id, edit, value)
    if action == "t":
        choices = dict(await _choices(context, activity, edit)) if edit in MULTI_EDITS else {}
        if argument not in choices:
            await answer(update, invalid_text(t))
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
            await answer(update, invalid_text(t))
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
    await answer(update, invalid_text(t))
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
    """The screen asking for a new value of one field, its buttons stamped with the field (a
    press on an older field's screen is refused in :func:`on_edit`)."""
    text, markup = await _field_question(context, activity, edit, value)
    return text, stamped(markup, "ed", edit.value)


async def _field_question(
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
            button(checked_label(code in selected, label), "ed", aid, "t", code)
            for code, label in choices
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
        button(checked_label(code == current_code, label), "ed", aid, "v", code)
        for code, label in choices
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
        await send(update, not_editable_text(t, error))
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
    await show(update, text, stamped(InlineKeyboardMarkup(rows), "ed", edit.value))
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
        await answer(update, invalid_text(t))
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
        await answer(update, not_editable_text(t, error), alert=True)
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


EDIT_FLOW = "publish_edit"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(
        EDIT_FLOW,
        on_text=typed(EDIT_FLOW, on_edit_text),
        on_location=typed(EDIT_FLOW, on_edit_location),
        on_cancel=cancel,
    ),
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(owning(EDIT_FLOW, on_edit), pattern=r"^ed:"))
