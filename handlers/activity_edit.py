"""Editing a published activity: pick a field, give the new value, confirm.

The manage card's ✏️ Edit (``ed:<activity>``) opens the list of fields (:data:`FIELDS` of
:mod:`bot.domain.activity_form`, the same table ``/new`` and the service read). The pending edit
(the field, the new value, whom a capacity drop moves) is the ``activity_edit`` flow's state in
``flow_owners``, taken before each screen is shown: a typed value after a restart still finds
it, and a second bot process sees the same. Buttons that act on the pending edit (a toggle,
Done, whom to move, ✅ Confirm) carry the flow's version they were drawn with: a press on an
older screen is refused and changes nothing. Every press and answer re-authorizes first (a
stranger is told they may not, whatever else the press says).

```mermaid
stateDiagram-v2
    [*] --> menu: ed:<activity>
    menu --> value: a typed field (ed.f), or the map pin (send a location)
    menu --> pick: skills, people served (ed.f; ed.t toggles)
    menu --> confirm: a button value (ed.v: category, yes/no, district, key date, no pin)
    menu --> training: training (ed.f): no training (ed.v none) → confirm
    training --> list: requires … / is a training … (ed.tm)
    list --> confirm: a qualification (ed.v r<id> / g<id>), or a typed new name
    pick --> confirm: Done (ed.d)
    value --> confirm: a valid value
    confirm --> confirm: capacity drop: toggle whom to move (ed.mv)
    confirm --> [*]: ✅ Confirm (ed.ok; volunteers told of time, place, pin) · ✖️ Cancel · /cancel
```
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext, nudge_outbox
from bot.domain.activities import Activity, PeopleServed, SignupStatus
from bot.domain.activity_form import (
    FIELD,
    FIELDS,
    MULTI_EDITS,
    NEWS_EDITS,
    EditField,
    InputKind,
    toggled,
)
from bot.domain.flows import FlowOwner, FlowState
from bot.domain.qualifications import TrainingChoice, training_value
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.publishing import (
    CapacityChanged,
    NotEditable,
    NotEditableReason,
    PublishingService,
    WrongStep,
    format_pin,
)
from bot.services.staff import StaffRefused
from handlers.activity_view import PEOPLE_SERVED, short_when, when
from handlers.callbacks import Press, button_rows, parse_id, split
from handlers.flows import Flow, owned_by, release, take
from handlers.manage_buttons import ManageCard
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS, refuse_staff

log = logging.getLogger(__name__)

FLOW = "activity_edit"

NOT_EDITABLE: dict[NotEditableReason, str] = {
    NotEditableReason.CANCELLED: N_("This activity was cancelled, so it can no longer be edited."),
    NotEditableReason.STARTED: N_(
        "This activity has already started, so it can no longer be edited."
    ),
    NotEditableReason.NOT_PUBLISHED: N_("This activity is not published, so it cannot be edited."),
}

#: How an empty value of an optional field reads on the confirmation.
NONE_TEXT: dict[EditField, str] = {
    EditField.SKILLS: N_("no required skills"),
    EditField.PEOPLE: N_("not specified"),
    EditField.AREA: N_("no district"),
    EditField.KEY_DATE: N_("no tag"),
    EditField.DEADLINE: N_("no deadline"),
    EditField.PIN: N_("no map pin"),
}

#: The "none" button of optional fields chosen from a list.
NONE_BUTTON: dict[EditField, str] = {
    EditField.AREA: N_("No district"),
    EditField.KEY_DATE: N_("No tag"),
}


# ------------------------------------------------------------------------------ typed buttons


class EditActivity(Press, prefix="ed"):
    """The list of fields (the manage card's and the publish notice's ✏️ Edit)."""

    activity_id: int


class EditPick(Press, prefix="ed.f"):
    activity_id: int
    field: EditField


class EditValue(Press, prefix="ed.v"):
    """A value chosen with a button (``-``: none); it leads to the confirmation."""

    activity_id: int
    field: EditField
    code: str


class EditTrainingMode(Press, prefix="ed.tm"):
    """The training field's "requires …" / "is a training …": the organization's list."""

    activity_id: int
    mode: TrainingChoice


class EditToggle(Press, prefix="ed.t"):
    activity_id: int
    field: EditField
    version: int
    code: str


class EditDone(Press, prefix="ed.d"):
    activity_id: int
    field: EditField
    version: int


class EditMove(Press, prefix="ed.mv"):
    """Toggle whether a capacity drop moves this sign-up back to the waitlist."""

    activity_id: int
    version: int
    signup_id: int


class EditConfirm(Press, prefix="ed.ok"):
    activity_id: int
    field: EditField
    version: int


class EditCancel(Press, prefix="ed.no"):
    activity_id: int


class Stale(Exception):
    """A press drawn for another pending edit (an older screen) than the stored one."""


@dataclass(frozen=True)
class Pending:
    """The edit waiting for its value or its confirmation (the flow's state)."""

    activity_id: int
    field: EditField
    value: str | None = None
    move: tuple[int, ...] | None = None  # whom a capacity drop moves; None: not chosen yet

    def state(self) -> FlowState:
        state: FlowState = {
            "activity": self.activity_id,
            "field": self.field.value,
            "value": self.value,
        }
        if self.move is not None:
            state["move"] = list(self.move)
        return state

    @classmethod
    def of(cls, owner: FlowOwner) -> Pending | None:
        activity_id = owner.int_state("activity")
        field = owner.str_state("field")
        if activity_id is None or field not in set(EditField):
            return None
        move = owner.state.get("move")
        return cls(
            activity_id,
            EditField(field),
            owner.str_state("value"),
            tuple(i for i in move if isinstance(i, int)) if isinstance(move, list) else None,
        )


def service(context: ZyContext) -> PublishingService:
    return context.services.publishing


def _check(selected: bool, label: str) -> str:
    return f"✓ {label}" if selected else label


def not_editable_text(t: Translator, error: WrongStep) -> str:
    if isinstance(error, NotEditable):
        return t.gettext(NOT_EDITABLE[error.reason])
    return t.gettext("This activity can no longer be edited.")


def _back_to_activity(t: Translator, activity_id: int) -> InlineKeyboardButton:
    """Back to the activity's management card (handlers.manage), where editing started."""
    return ManageCard(activity_id).button(t.gettext("⬅️ Back to the activity"))


async def _editable(update: Update, context: ZyContext, activity_id: int) -> Activity | None:
    """The activity, re-authorized; ``None`` after telling the user why not."""
    try:
        return await service(context).editable(context.user.telegram_id, activity_id)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
    except WrongStep as error:
        text = not_editable_text(context.t, error)
        if update.callback_query is not None:
            await answer(update, text, alert=True)
        else:
            await send(update, text)
    return None


async def _pending_drawn(context: ZyContext, activity_id: int, version: int) -> Pending:
    """The pending edit, if the pressed screen was drawn for it (same version)."""
    owner = await owned_by(context, FLOW)
    pending = Pending.of(owner) if owner is not None else None
    if owner is None or pending is None or owner.version != version:
        raise Stale
    if pending.activity_id != activity_id:
        raise Stale
    return pending


async def _refuse_stale(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


# ------------------------------------------------------------------------------ field screens


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
        near = await service(context).key_dates_near(activity.starts_at)
        return [(k.code, k.name(language)) for k in near]
    if FIELD[edit].kind is InputKind.YES_NO:
        return [("1", t.gettext("Yes")), ("0", t.gettext("No"))]
    if edit is EditField.TRAINING:
        choices = [(TrainingChoice.NONE.value, t.gettext("No training needed"))]
        for q in await service(context).qualifications_of(activity.organization_id):
            qid, name = q.qualification_id, q.name
            choices += [
                (
                    training_value(TrainingChoice.REQUIRES, qid),
                    t.gettext("Requires the training «{name}»").format(name=name),
                ),
                (
                    training_value(TrainingChoice.GRANTS, qid),
                    t.gettext("Is a training granting «{name}»").format(name=name),
                ),
            ]
        return choices
    return []


def _training_now(activity: Activity) -> str:
    """The training field's value now (``none`` also for the old "training required" flag)."""
    if activity.requires_qualification is not None:
        return training_value(
            TrainingChoice.REQUIRES, activity.requires_qualification.qualification_id
        )
    if activity.grants_qualification is not None:
        return training_value(TrainingChoice.GRANTS, activity.grants_qualification.qualification_id)
    return TrainingChoice.NONE.value


#: The value now of the fields chosen with one button (shown ticked).
_CHOSEN: dict[EditField, Callable[[Activity], str | None]] = {
    EditField.CATEGORY: lambda a: a.category_code,
    EditField.AREA: lambda a: a.area_code,
    EditField.KEY_DATE: lambda a: a.key_date,
    EditField.TRAINING: _training_now,
    EditField.ADULTS: lambda a: "1" if a.adults_only else "0",
    EditField.VOLUNTEERING: lambda a: "1" if a.is_volunteering else "0",
}


async def _field_screen(
    context: ZyContext, activity: Activity, pending: Pending, version: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The screen asking for a new value of one field, by the kind of its answer."""
    t = context.t
    edit = pending.field
    aid = activity.activity_id
    field = FIELD[edit]
    cancel_row = [EditCancel(aid).button(t.gettext("✖️ Cancel"))]
    if field.kind in (InputKind.TEXT, InputKind.WHEN):
        return _edit_prompt(t, edit, activity), None
    if field.kind is InputKind.PIN:
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
            remove = EditValue(aid, edit, "-").button(t.gettext("🗑 Remove the map pin"))
            rows.insert(0, [remove])
        return text, InlineKeyboardMarkup(rows)
    if field.kind is InputKind.TRAINING:
        return await _training_screen(context, activity, pending)
    choices = await _choices(context, activity, edit)
    if field.kind is InputKind.MULTI:
        selected = set((pending.value or "").split(","))
        buttons = [
            EditToggle(aid, edit, version, code).button(_check(code in selected, label))
            for code, label in choices
        ]
        if edit is EditField.SKILLS:
            text = t.gettext(
                "<b>Required skills</b>: tap to select, then Done. Volunteers already signed up "
                "keep their places; the skills apply to new sign-ups."
            )
        else:
            text = t.gettext("<b>People served</b>: tap all that apply, then Done.")
        done = EditDone(aid, edit, version).button(t.gettext("Done ➡️"))
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [done], cancel_row])
    chosen = _CHOSEN[edit](activity)
    buttons = [
        EditValue(aid, edit, code).button(_check(code == chosen, label)) for code, label in choices
    ]
    if field.kind is InputKind.YES_NO:
        question = t.gettext("{field}?").format(field=t.gettext(field.label))
        return question, InlineKeyboardMarkup([buttons, cancel_row])
    rows = button_rows(buttons, 2)
    if edit is EditField.CATEGORY:
        text = t.gettext("Choose the kind of service.")
    elif edit is EditField.AREA:
        text = t.gettext("Choose the <b>district</b> where it takes place.")
    else:
        text = (
            t.gettext("Tag it with the key date near its day, so it appears in the campaign?")
            if choices
            else t.gettext("No key date is near this activity's day.")
        )
    if edit in NONE_BUTTON:
        rows.append([EditValue(aid, edit, "-").button(t.gettext(NONE_BUTTON[edit]))])
    return text, InlineKeyboardMarkup([*rows, cancel_row])


async def _training_screen(
    context: ZyContext, activity: Activity, pending: Pending
) -> tuple[str, InlineKeyboardMarkup]:
    """The three answers, or (``pending.value`` ``r``/``g``) the organization's list, where a
    typed name names a new one."""
    t = context.t
    aid = activity.activity_id
    cancel_row = [EditCancel(aid).button(t.gettext("✖️ Cancel"))]
    now = _training_now(activity)
    labels = dict(await _choices(context, activity, EditField.TRAINING))
    shown = (
        labels.get(now, "—")
        if now != TrainingChoice.NONE.value
        else t.gettext("No training needed")
    )
    if now == TrainingChoice.NONE.value and activity.training_required:
        shown = t.gettext("training before service (not tracked)")
    mode = pending.value
    if mode in (TrainingChoice.REQUIRES.value, TrainingChoice.GRANTS.value):
        chosen = TrainingChoice(mode)
        if chosen is TrainingChoice.REQUIRES:
            text = t.gettext(
                "Which <b>qualification</b> must volunteers hold to sign up? Choose one, or "
                "type a new name (1–40 characters).\n/cancel to stop."
            )
        else:
            text = t.gettext(
                "Completing this training grants which <b>qualification</b>? Choose one, or "
                "type a new name (1–40 characters).\n/cancel to stop."
            )
        buttons = [
            EditValue(aid, EditField.TRAINING, training_value(chosen, q.qualification_id)).button(
                _check(training_value(chosen, q.qualification_id) == now, q.name)
            )
            for q in await service(context).qualifications_of(activity.organization_id)
        ]
        back = EditPick(aid, EditField.TRAINING).button(t.gettext("⬅️ Back"))
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [back], cancel_row])
    text = t.gettext("<b>Training</b> now: {current}").format(current=html(shown))
    rows = [
        [
            EditValue(aid, EditField.TRAINING, TrainingChoice.NONE.value).button(
                _check(now == TrainingChoice.NONE.value, t.gettext("No training needed"))
            )
        ],
        [
            EditTrainingMode(aid, TrainingChoice.REQUIRES).button(
                _check(
                    activity.requires_qualification is not None,
                    t.gettext("🎓 Requires a training…"),
                )
            )
        ],
        [
            EditTrainingMode(aid, TrainingChoice.GRANTS).button(
                _check(
                    activity.grants_qualification is not None,
                    t.gettext("📜 This activity is a training…"),
                )
            )
        ],
        cancel_row,
    ]
    return text, InlineKeyboardMarkup(rows)


_NOW_SHOWN: dict[EditField, Callable[[Translator, Activity], str]] = {
    EditField.TITLE: lambda t, a: html(a.title),
    EditField.DESCRIPTION: lambda t, a: html(a.description) or "—",
    EditField.WHEN: when,
    EditField.PLACE: lambda t, a: html(a.place),
    EditField.CAPACITY: lambda t, a: str(a.capacity),
    EditField.DEADLINE: lambda t, a: short_when(t, a.signup_deadline) if a.signup_deadline else "—",
    EditField.LEADER: lambda t, a: html(a.leader_name or "—"),
}

TYPE_NEW_VALUE = N_("Type the new value.")
_HINTS: dict[EditField, str] = {
    EditField.WHEN: N_("Type the new date and time, e.g. 12/5 9:00-11:30."),
    EditField.DEADLINE: N_("Type the new deadline (e.g. 12/3 18:00), or - for none."),
    EditField.CAPACITY: N_("Type the number of volunteers needed (1–10,000)."),
}


def _edit_prompt(t: Translator, edit: EditField, activity: Activity) -> str:
    hint = t.gettext(_HINTS.get(edit, TYPE_NEW_VALUE))
    return t.gettext("<b>{field}</b> now: {current}\n\n{hint}\n/cancel to stop.").format(
        field=t.gettext(FIELD[edit].label), current=_NOW_SHOWN[edit](t, activity), hint=hint
    )


async def _shown_value(context: ZyContext, activity: Activity, edit: EditField, value: str) -> str:
    t = context.t
    kind = FIELD[edit].kind
    if not value and edit in NONE_TEXT:
        return t.gettext(NONE_TEXT[edit])
    if kind is InputKind.WHEN:
        start_text, _, end_text = value.partition("/")
        start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
        return t.format_span(start, end)  # the date once when both ends are on one day
    if edit is EditField.DEADLINE:
        return short_when(t, datetime.fromisoformat(value))
    if kind is InputKind.YES_NO:
        return t.gettext("Yes") if value == "1" else t.gettext("No")
    if kind is InputKind.PIN:
        latitude, _, longitude = value.partition(",")
        return html(f"📍 {float(latitude):.5f}, {float(longitude):.5f}")
    if kind in (InputKind.CHOICE, InputKind.MULTI, InputKind.TRAINING):
        labels = dict(await _choices(context, activity, edit))
        codes = [code for code in value.split(",") if code]
        return html(t.gettext(", ").join(labels.get(code, code) for code in codes))
    return html(value) or "—"


# ------------------------------------------------------------------------------------ screens


async def on_menu(update: Update, context: ZyContext, press: EditActivity) -> None:
    """``ed:<activity>``: the fields to choose from."""
    t = context.t
    activity = await _editable(update, context, press.activity_id)
    if activity is None:
        return
    await answer(update)
    buttons = [
        EditPick(activity.activity_id, field.edit).button(t.gettext(field.label))
        for field in FIELDS
    ]
    await show(
        update,
        t.gettext("✏️ <b>{title}</b>\nWhich field do you want to change?").format(
            title=html(activity.title)
        ),
        InlineKeyboardMarkup(
            [*button_rows(buttons, 2), [_back_to_activity(t, activity.activity_id)]]
        ),
    )


async def _invalid(update: Update, context: ZyContext) -> None:
    """Data of an edit family that does not parse. ``ed:<activity>:…`` was drawn before the
    typed families (still in chats) or forged: it does not say what it was drawn for, so it
    is refused, but the activity is re-authorized first so that the refusal fits the person
    (a stranger may not, a started activity can no longer change)."""
    prefix, *rest = split(update.callback_query.data if update.callback_query else None)
    if prefix != EditActivity.prefix:
        await refuse_staff(update, context)
        return
    activity_id = parse_id(rest[0]) if rest else None
    if activity_id is None:
        await refuse_staff(update, context)
        return
    if await _editable(update, context, activity_id) is not None:
        await _refuse_stale(update, context)


async def on_pick(update: Update, context: ZyContext, press: EditPick) -> None:
    """A field chosen from the list: its screen (a typed value is read by this flow)."""
    activity = await _editable(update, context, press.activity_id)
    if activity is None:
        return
    await answer(update)
    value = _current_value(press.field, activity) if press.field in MULTI_EDITS else None
    pending = Pending(activity.activity_id, press.field, value)
    owner = await take(context, FLOW, press.field.value, pending.state())
    text, markup = await _field_screen(context, activity, pending, owner.version)
    await show(update, text, markup)


async def on_value(update: Update, context: ZyContext, press: EditValue) -> None:
    """A value chosen with a button: what the pressed screen offered, for its field."""
    t = context.t
    activity = await _editable(update, context, press.activity_id)
    if activity is None:
        return
    kind = FIELD[press.field].kind
    # Only fields chosen with one button take a pressed value; the map pin only "none".
    if kind not in (InputKind.CHOICE, InputKind.YES_NO, InputKind.PIN, InputKind.TRAINING) or (
        kind is InputKind.PIN and press.code != "-"
    ):
        await _refuse_stale(update, context)
        return
    value = "" if press.code == "-" else press.code
    if value and value not in dict(await _choices(context, activity, press.field)):
        await answer(update, t.gettext(GENERIC), alert=True)
        return
    await answer(update)
    await _confirm_screen(
        update, context, activity, Pending(activity.activity_id, press.field, value)
    )


async def on_training_mode(update: Update, context: ZyContext, press: EditTrainingMode) -> None:
    """ "Requires a training…" / "This activity is a training…": the organization's list; the
    flow then reads a typed name for it."""
    if press.mode is TrainingChoice.NONE:
        await refuse_staff(update, context)
        return
    activity = await _editable(update, context, press.activity_id)
    if activity is None:
        return
    await answer(update)
    pending = Pending(activity.activity_id, EditField.TRAINING, press.mode.value)
    owner = await take(context, FLOW, EditField.TRAINING.value, pending.state())
    text, markup = await _field_screen(context, activity, pending, owner.version)
    await show(update, text, markup)


#: The presses drawn for one version of a pending edit.
Versioned = TypeVar("Versioned", EditToggle, EditDone, EditMove, EditConfirm)


async def _drawn(
    update: Update, context: ZyContext, press: Versioned
) -> tuple[Versioned, Activity, Pending] | None:
    """A versioned edit press, its activity (re-authorized) and the pending edit it was drawn
    for; ``None`` after answering a refused or stale press (nothing changed)."""
    activity = await _editable(update, context, press.activity_id)
    if activity is None:
        return None
    try:
        pending = await _pending_drawn(context, press.activity_id, press.version)
    except Stale:
        await _refuse_stale(update, context)
        return None
    return press, activity, pending


async def on_toggle(update: Update, context: ZyContext, press: EditToggle) -> None:
    drawn = await _drawn(update, context, press)
    if drawn is None:
        return
    _, activity, pending = drawn
    choices = dict(await _choices(context, activity, pending.field))
    if pending.field is not press.field or press.code not in choices:
        await _refuse_stale(update, context)
        return
    await answer(update)
    pending = Pending(activity.activity_id, pending.field, toggled(pending.value or "", press.code))
    owner = await take(context, FLOW, pending.field.value, pending.state())
    text, markup = await _field_screen(context, activity, pending, owner.version)
    await show(update, text, markup)


async def on_done(update: Update, context: ZyContext, press: EditDone) -> None:
    drawn = await _drawn(update, context, press)
    if drawn is None:
        return
    _, activity, pending = drawn
    if pending.field is not press.field or pending.field not in MULTI_EDITS:
        await _refuse_stale(update, context)
        return
    await answer(update)
    await _confirm_screen(update, context, activity, pending)


async def on_move(update: Update, context: ZyContext, press: EditMove) -> None:
    drawn = await _drawn(update, context, press)
    if drawn is None:
        return
    _, activity, pending = drawn
    if pending.field is not EditField.CAPACITY:
        await _refuse_stale(update, context)
        return
    chosen = list(pending.move or ())
    if press.signup_id in chosen:
        chosen.remove(press.signup_id)
    else:
        chosen.append(press.signup_id)
    await answer(update)
    moved = Pending(pending.activity_id, pending.field, pending.value, tuple(chosen))
    await _confirm_screen(update, context, activity, moved)


async def on_confirm(update: Update, context: ZyContext, press: EditConfirm) -> None:
    t = context.t
    drawn = await _drawn(update, context, press)
    if drawn is None:
        return
    _, activity, pending = drawn
    if pending.field is not press.field or pending.value is None:
        await _refuse_stale(update, context)
        return
    svc = service(context)
    try:
        result = await svc.apply_edit(
            context.user.telegram_id,
            activity.activity_id,
            pending.field,
            pending.value,
            move=list(pending.move or ()),
        )
    except CapacityChanged:
        await answer(
            update, t.gettext("The sign-ups changed meanwhile. Please choose again."), alert=True
        )
        fresh = await _editable(update, context, activity.activity_id)
        if fresh is not None:
            again = Pending(pending.activity_id, pending.field, pending.value)
            await _confirm_screen(update, context, fresh, again)
        return
    except InvalidInput as error:
        await answer(update, error.translate(t.gettext), alert=True)
        return
    except WrongStep as error:
        await answer(update, not_editable_text(t, error), alert=True)
        return
    await release(context, FLOW)
    await answer(update)
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
        [EditActivity(activity.activity_id).button(t.gettext("✏️ Edit another field"))],
        [_back_to_activity(t, activity.activity_id)],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    nudge_outbox(context)


async def on_cancel_press(update: Update, context: ZyContext, press: EditCancel) -> None:
    owner = await owned_by(context, FLOW)
    pending = Pending.of(owner) if owner is not None else None
    if pending is not None and pending.activity_id == press.activity_id:
        await release(context, FLOW)
    await answer(update)
    await show(update, context.t.gettext("Nothing was changed."))


async def _confirm_screen(
    update: Update, context: ZyContext, activity: Activity, pending: Pending
) -> None:
    """What the change means, with ✅ Confirm (and, for a capacity drop, whom it moves)."""
    t = context.t
    svc = service(context)
    edit, value = pending.field, pending.value or ""
    shown = await _shown_value(context, activity, edit, value)
    lines = [
        t.gettext("Change <b>{field}</b> of “{title}” to: {value}").format(
            field=t.gettext(FIELD[edit].label), title=html(activity.title), value=shown
        )
    ]
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
    ) or (edit is EditField.ADULTS and value == "1")
    stricter = stricter or (
        edit is EditField.TRAINING
        and value.startswith(TrainingChoice.REQUIRES.value)
        and value != _training_now(activity)
    )
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
    plan = await svc.capacity_plan(activity, int(value)) if edit is EditField.CAPACITY else None
    if plan is not None and pending.move is None:
        pending = Pending(pending.activity_id, edit, pending.value, plan.default)
    # Taken before the screen is shown: its buttons carry this version.
    owner = await take(context, FLOW, "confirm", pending.state())
    aid = activity.activity_id
    rows: list[list[InlineKeyboardButton]] = []
    if plan is not None:
        chosen = set(pending.move or ())
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
            t.gettext("Selected: {count} of {needed}").format(count=len(chosen), needed=plan.needed)
        )
        for person in plan.candidates:
            label = person.name or t.gettext("(deleted account)")
            if person.status is SignupStatus.OFFERED:
                label = t.gettext("{name} (offered)").format(name=label)
            mark = "☑️ " if person.signup_id in chosen else "⬜ "
            rows.append([EditMove(aid, owner.version, person.signup_id).button(mark + label[:40])])
    rows.append(
        [
            EditConfirm(aid, edit, owner.version).button(t.gettext("✅ Confirm")),
            EditCancel(aid).button(t.gettext("✖️ Cancel")),
        ]
    )
    await show(update, "\n\n".join(lines), InlineKeyboardMarkup(rows))


# ----------------------------------------------------------------------------- typed answers


async def _pending_activity(
    update: Update, context: ZyContext, owner: FlowOwner
) -> tuple[Activity, Pending] | None:
    pending = Pending.of(owner)
    if pending is None:
        await release(context, FLOW)
        return None
    activity = await _editable(update, context, pending.activity_id)
    if activity is None:
        await release(context, FLOW)
        return None
    return activity, pending


async def _reask(
    update: Update, context: ZyContext, activity: Activity, pending: Pending, owner: FlowOwner
) -> None:
    """An answer of the wrong kind (text for a button field, a pin for a typed one)."""
    t = context.t
    text, markup = await _field_screen(context, activity, pending, owner.version)
    kind = FIELD[pending.field].kind
    notice = (
        t.gettext("Please send a location (📎 → Location).")
        if kind is InputKind.PIN
        else t.gettext("Please use the buttons below.")
        if markup is not None
        else t.gettext("Please type the new value.")
    )
    await send(update, f"{notice}\n\n{text}", markup)


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    found = await _pending_activity(update, context, owner)
    if found is None:
        return
    activity, pending = found
    if FIELD[pending.field].kind is InputKind.TRAINING and pending.value in (
        TrainingChoice.REQUIRES.value,
        TrainingChoice.GRANTS.value,
    ):
        await _name_training(update, context, activity, pending, message.text)
        return
    if FIELD[pending.field].kind not in (InputKind.TEXT, InputKind.WHEN):
        await _reask(update, context, activity, pending, owner)
        return
    try:
        value = service(context).parse_edit(activity, pending.field, message.text, t.language.value)
    except InvalidInput as error:
        prompt = _edit_prompt(t, pending.field, activity)
        await send(update, "⚠️ " + error.translate(t.gettext) + "\n\n" + prompt)
        return
    await _confirm_screen(
        update, context, activity, Pending(activity.activity_id, pending.field, value)
    )


async def _name_training(
    update: Update, context: ZyContext, activity: Activity, pending: Pending, text: str
) -> None:
    """A typed qualification name while the training list is open: the organization's one of
    that name (created if new), then the confirmation."""
    t = context.t
    mode = TrainingChoice(pending.value or TrainingChoice.REQUIRES.value)
    try:
        qualification = await service(context).name_qualification(
            context.user.telegram_id, activity.activity_id, text
        )
    except InvalidInput as error:
        screen, markup = await _training_screen(context, activity, pending)
        await send(update, "⚠️ " + error.translate(t.gettext) + "\n\n" + screen, markup)
        return
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return
    except WrongStep as error:
        await release(context, FLOW)
        await send(update, not_editable_text(t, error))
        return
    value = training_value(mode, qualification.qualification_id)
    await _confirm_screen(
        update, context, activity, Pending(activity.activity_id, pending.field, value)
    )


async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    """A Telegram location while editing: the new map pin."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    found = await _pending_activity(update, context, owner)
    if found is None:
        return
    activity, pending = found
    if FIELD[pending.field].kind is not InputKind.PIN:
        await _reask(update, context, activity, pending, owner)
        return
    value = format_pin(message.location.latitude, message.location.longitude)
    await _confirm_screen(
        update, context, activity, Pending(activity.activity_id, pending.field, value)
    )


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    found = await _pending_activity(update, context, owner)
    if found is not None:
        await _reask(update, context, *found, owner)


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Nothing was changed."))


# -------------------------------------------------------------------------------- wiring

FLOWS: list[Flow] = [
    Flow(FLOW, on_text=on_text, on_location=on_location, on_cancel=on_cancel, on_other=on_other)
]

#: Each button family of editing and its handler.
PRESSES: PressTable = {
    EditActivity: on_menu,
    EditPick: on_pick,
    EditValue: on_value,
    EditTrainingMode: on_training_mode,
    EditToggle: on_toggle,
    EditDone: on_done,
    EditMove: on_move,
    EditConfirm: on_confirm,
    EditCancel: on_cancel_press,
}

#: A staff refusal anywhere in a press is answered as ``refuse_staff`` words it.
TEXTS = RefusalTexts(STAFF_REFUSALS)


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
