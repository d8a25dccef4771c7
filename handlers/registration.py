"""Volunteer registration (and editing a profile through the same steps).

Handlers here only parse the update, call :class:`bot.services.registration.RegistrationService`
and render the step it leads to. The draft (answers and current step) lives in the database, and
while a step waits for an answer (``ACTIVE``) the ``registration`` flow owns the user's typed
input (:mod:`handlers.flows`): after a restart, or in another bot process, the next message or
press finds both and carries on at the same step.

```mermaid
stateDiagram-v2
    [*] --> ACTIVE: /register · /profile · menu:profile · any reg: button
    ACTIVE --> ACTIVE: answer / Back / edit (step kept in registration_drafts)
    ACTIVE --> [*]: Confirm on the review screen
    ACTIVE --> [*]: /cancel (draft kept, resume later)
```
The steps themselves are drawn in :mod:`bot.services.registration`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain import validation
from bot.domain.flows import FlowOwner, FlowState
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import (
    DraftData,
    Gender,
    RegistrationDraft,
    RegistrationStep,
)
from bot.i18n import Translator
from bot.services.registration import (
    AlreadyRegistered,
    NoDraft,
    RegistrationService,
    WrongStep,
)
from handlers.callbacks import (
    MenuItem,
    MenuOpen,
    Press,
    RegisterFor,
    button_rows,
    legacy_register_for,
    parse_int,
)
from handlers.flows import Flow, owned_by, release, take
from handlers.press_table import InvalidHandler, press_handlers, without_press
from handlers.profile import ProfEdit, show_profile
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show
from handlers.volunteer_answers import (
    FIELD_LABELS,
    GENDER_LABELS,
    GROUP_LABELS,
    SLOT_LABELS,
    describe_answers,
)

log = logging.getLogger(__name__)

Step = RegistrationStep
#: What a screen returns: the form waits for an answer, or it is done.
ACTIVE = "active"
END = "end"


def service(context: ZyContext) -> RegistrationService:
    return context.services.registration


def back_label(t: Translator) -> str:
    return t.gettext("⬅️ Back")


class RegPress(Press, prefix="reg"):
    """A registration button: the step it was drawn for, what it does, and its value ("-" for
    none). The step lets a press on an older screen be recognised as stale instead of acting
    on whatever step the form is at now."""

    step: RegistrationStep
    action: str
    value: str


def _reg(step: Step, action: str, value: str | int = "-") -> str:
    return RegPress(step, action, str(value)).pack()


def _back_row(t: Translator, step: Step) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(back_label(t), callback_data=_reg(step, "back"))]


def _multi_select(
    buttons: list[InlineKeyboardButton], t: Translator, step: Step
) -> InlineKeyboardMarkup:
    """Toggle buttons two per row, then Done and Back (skills, services, times, groups)."""
    done = InlineKeyboardButton(t.gettext("Done ➡️"), callback_data=_reg(step, "done"))
    return InlineKeyboardMarkup([*button_rows(buttons, 2), [done], _back_row(t, step)])


def _check(selected: bool, label: str) -> str:
    return f"✓ {label}" if selected else label


# ---------------------------------------------------------------------------------- screens


Screen = tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup]


async def render(draft: RegistrationDraft, context: ZyContext, t: Translator) -> Screen:
    """The text and keyboard of the draft's current step."""
    svc = service(context)
    number, total = svc.position(draft)
    progress = t.gettext("Step {number} of {total}").format(number=number, total=total)
    data = draft.data
    step = draft.step
    language = t.language.value

    if step is Step.CONSENT:
        text = t.gettext(
            "<b>Before you register</b>\n\n"
            "<b>Your data.</b> Zhiyuan stores what you enter here: your name, phone number, "
            "date of birth, gender (optional), area, skills, interests and when you are free. "
            "Only the organizers of activities you sign up for can see your contact details. "
            "You can export or delete your data at any time from your profile.\n\n"
            "<b>Volunteer pledge.</b> I am willing to be a volunteer. I promise to do my best, "
            "without asking for reward, to help others and serve society, to practise the "
            "volunteer spirit, and to help build a society of solidarity, mutual help, equality "
            "and friendship.\n\n"
            "Do you accept the privacy notice and the pledge?"
        )
        keyboard = [
            [InlineKeyboardButton(t.gettext("✅ I accept"), callback_data=_reg(step, "consent"))],
            [InlineKeyboardButton(t.gettext("Not now"), callback_data=_reg(step, "quit"))],
        ]
        return text, InlineKeyboardMarkup(keyboard)

    if step is Step.NAME:
        text = t.gettext(
            "{progress}: your <b>real name</b>, as on your ID card. Please type it."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([_back_row(t, step)])

    if step is Step.PHONE:
        text = t.gettext(
            "{progress}: your <b>phone number</b>. Tap the button below to share the number of "
            "this Telegram account, or type your number."
        ).format(progress=progress)
        return text, ReplyKeyboardMarkup(
            [
                [KeyboardButton(t.gettext("📱 Share my phone number"), request_contact=True)],
                [KeyboardButton(back_label(t))],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )

    if step is Step.ID_NUMBER:
        text = t.gettext(
            "{progress}: your <b>ID card number</b> (18 characters). It is needed for service "
            "certificates and is only ever shown masked."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([_back_row(t, step)])

    if step is Step.GENDER:
        text = t.gettext("{progress}: your <b>gender</b> (you may skip this).").format(
            progress=progress
        )
        buttons = [
            InlineKeyboardButton(t.gettext(label), callback_data=_reg(step, "g", g.value))
            for g, label in GENDER_LABELS.items()
        ]
        skip = InlineKeyboardButton(t.gettext("Skip"), callback_data=_reg(step, "g", "skip"))
        return text, InlineKeyboardMarkup([buttons[:2], [buttons[2], skip], _back_row(t, step)])

    if step is Step.BIRTH_DATE:
        return _birth_date_screen(t, progress, data, svc)

    if step is Step.GUARDIAN:
        text = t.gettext(
            "You are under 18. Volunteers under 18 need the consent of a parent or guardian. "
            "Please confirm that your parent or guardian agrees to your volunteering."
        )
        keyboard = [
            [
                InlineKeyboardButton(
                    t.gettext("✅ My parent or guardian agrees"),
                    callback_data=_reg(step, "guardian"),
                )
            ],
            _back_row(t, step),
        ]
        return text, InlineKeyboardMarkup(keyboard)

    if step is Step.AREA:
        text = t.gettext(
            "{progress}: where do you <b>live</b>? Choose your district, or type the name of "
            "your district or community."
        ).format(progress=progress)
        areas = await context.services.catalog.areas()
        buttons = [
            InlineKeyboardButton(
                _check(area.code == data.area_code, area.name(language)),
                callback_data=_reg(step, "area", area.code),
            )
            for area in areas
        ]
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), _back_row(t, step)])

    if step in (Step.SKILLS, Step.CATEGORIES):
        catalog = context.services.catalog
        if step is Step.SKILLS:
            items, chosen, kind = await catalog.skills(), data.skills, "sk"
            text = t.gettext(
                "{progress}: your <b>skills</b> (optional). Tap to select or unselect, "
                "then tap Done."
            ).format(progress=progress)
        else:
            items, chosen, kind = await catalog.categories(), data.categories, "cat"
            text = t.gettext(
                "{progress}: which kinds of <b>service</b> would you like to do? Choose at "
                "least one, then tap Done."
            ).format(progress=progress)
        buttons = [
            InlineKeyboardButton(
                _check(item.code in chosen, item.name(language)),
                callback_data=_reg(step, kind, item.code),
            )
            for item in items
        ]
        return text, _multi_select(buttons, t, step)

    if step is Step.AVAILABILITY:
        text = t.gettext(
            "{progress}: when are you usually <b>free</b> to volunteer? Tap all that apply, "
            "then tap Done."
        ).format(progress=progress)
        buttons = [
            InlineKeyboardButton(
                _check(bool(data.availability & slot), t.gettext(label)),
                callback_data=_reg(step, "slot", int(slot)),
            )
            for slot, label in SLOT_LABELS.items()
        ]
        return text, _multi_select(buttons, t, step)

    if step is Step.GROUPS:
        text = t.gettext(
            "{progress}: do you belong to any of these <b>groups</b>? (optional) Tap all "
            "that apply, then tap Done."
        ).format(progress=progress)
        buttons = [
            InlineKeyboardButton(
                _check(group.value in data.groups, t.gettext(label)),
                callback_data=_reg(step, "grp", group.value),
            )
            for group, label in GROUP_LABELS.items()
        ]
        return text, _multi_select(buttons, t, step)

    # Step.REVIEW
    answers = await describe_answers(t, data, context, require_id_number=svc.require_id_number)
    lines = [t.gettext("<b>Please check your answers</b>"), ""]
    lines += [t.labelled(FIELD_LABELS[field], value) for field, value in answers]
    lines += ["", t.gettext("Tap a field to change it, or confirm.")]
    edit_buttons = [
        InlineKeyboardButton(
            "✏️ " + t.gettext(FIELD_LABELS[field]), callback_data=_reg(step, "edit", field)
        )
        for field, _ in answers
    ]
    confirm = InlineKeyboardButton(t.gettext("✅ Confirm"), callback_data=_reg(step, "confirm"))
    return "\n".join(lines), InlineKeyboardMarkup([*button_rows(edit_buttons, 2), [confirm]])


def _birth_date_screen(
    t: Translator, progress: str, data: DraftData, svc: RegistrationService
) -> Screen:
    step = Step.BIRTH_DATE
    text = t.gettext(
        "{progress}: your <b>date of birth</b>. Type it (for example 1990-05-04 or "
        "1990年5月4日), or pick it with the buttons."
    ).format(progress=progress)
    today = svc.today()
    if data.birth_year is None:
        first = (today.year - validation.MAX_AGE) // 10 * 10
        last = (today.year - validation.MIN_AGE) // 10 * 10
        buttons = [
            InlineKeyboardButton(f"{decade}…", callback_data=_reg(step, "dec", decade // 10))
            for decade in range(first, last + 1, 10)
        ]
        return text, InlineKeyboardMarkup([*button_rows(buttons, 4), _back_row(t, step)])
    if data.birth_month is None:
        chosen = t.gettext("Year {year}: now pick the month.").format(year=data.birth_year)
        buttons = [
            InlineKeyboardButton(str(month), callback_data=_reg(step, "m", month))
            for month in range(1, 13)
        ]
        return f"{text}\n\n{chosen}", InlineKeyboardMarkup(
            [*button_rows(buttons, 6), _back_row(t, step)]
        )
    chosen = t.gettext("{month}: now pick the day.").format(
        month=t.format_month(data.birth_year, data.birth_month)
    )
    buttons = [
        InlineKeyboardButton(str(day), callback_data=_reg(step, "d", day)) for day in range(1, 32)
    ]
    return f"{text}\n\n{chosen}", InlineKeyboardMarkup(
        [*button_rows(buttons, 7), _back_row(t, step)]
    )


def decade_screen(t: Translator, decade: int, svc: RegistrationService) -> InlineKeyboardMarkup:
    today = svc.today()
    years = [
        year
        for year in range(decade * 10, decade * 10 + 10)
        if today.year - validation.MAX_AGE <= year <= today.year - validation.MIN_AGE
    ]
    step = Step.BIRTH_DATE
    buttons = [
        InlineKeyboardButton(str(year), callback_data=_reg(step, "y", year)) for year in years
    ]
    return InlineKeyboardMarkup([*button_rows(buttons, 5), _back_row(t, step)])


async def present(
    update: Update,
    context: ZyContext,
    draft: RegistrationDraft,
    *,
    notice: str | None = None,
    had_reply_keyboard: bool = False,
) -> None:
    """Show the draft's step: in place for a button press on an inline screen, else a new
    message (a reply keyboard can only come with a new message)."""
    t = context.t
    text, markup = await render(draft, context, t)
    if notice:
        text = f"{notice}\n\n{text}"
    if isinstance(markup, ReplyKeyboardMarkup):
        await send(update, text, markup)
        return
    chat = update.effective_chat
    if had_reply_keyboard and chat is not None:
        # Take the phone step's keyboard away before going on.
        await chat.send_message(t.gettext("✓ Saved."), reply_markup=ReplyKeyboardRemove())
    if update.callback_query is not None and not had_reply_keyboard:
        await show(update, text, markup)
    else:
        await send(update, text, markup)


async def present_step(
    update: Update, context: ZyContext, draft: RegistrationDraft, *, notice: str | None = None
) -> str:
    """Own the user's typed input for this step (before it is shown: a crash right after the
    question loses nothing), then show it. The flow's state remembers whether the phone step's
    reply keyboard is up (to take it away after) and the activity card to return to."""
    owner = await owned_by(context, REGISTRATION_FLOW)
    state: FlowState = dict(owner.state) if owner is not None else {}
    had_reply_keyboard = state.get(REPLY_KEYBOARD) is True
    state[REPLY_KEYBOARD] = draft.step is Step.PHONE
    await take(context, REGISTRATION_FLOW, draft.step.value, state)
    await present(update, context, draft, notice=notice, had_reply_keyboard=had_reply_keyboard)
    return ACTIVE


# ---------------------------------------------------------------------------------- entry


async def enter(update: Update, context: ZyContext) -> object:
    """/register, /profile, the main menu's profile entry: continue a draft, show the profile
    of a registered volunteer, or start registering."""
    await answer(update)
    svc = service(context)
    user_id = context.user.telegram_id
    try:
        draft = await svc.begin(user_id)
    except AlreadyRegistered:
        await release(context, REGISTRATION_FLOW)
        await show_profile(update, context)
        return END
    return await present_step(update, context, draft)


async def register_for_invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."))


async def enter_for_activity(update: Update, context: ZyContext, press: RegisterFor) -> object:
    """📝 Register on an activity card: register, then come back to that card."""
    activity_id = press.activity_id
    if await service(context).profile(context.user.telegram_id) is not None:
        from handlers.activity_view import NOWHERE, View
        from handlers.browse import show_card

        await answer(update)
        await show_card(update, context, activity_id, View(NOWHERE))
        return END
    await take(context, REGISTRATION_FLOW, "start", {PENDING_ACTIVITY: activity_id})
    return await enter(update, context)


async def edit_profile_field(update: Update, context: ZyContext) -> object:
    """✏️ a field on the profile screen (``ProfEdit``): edit it through its step."""
    press = ProfEdit.parse(update.callback_query.data if update.callback_query else None)
    try:
        if press is None:
            raise WrongStep
        draft = await service(context).begin_edit(context.user.telegram_id, press.field)
    except (WrongStep, NoDraft):
        await answer(update, context.t.gettext("This button is no longer valid."))
        await show_profile(update, context)
        return END
    await answer(update)
    return await present_step(update, context, draft)


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    if message is None or message.text is None:
        return ACTIVE
    text = message.text
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    try:
        draft = await svc.current(user_id)
    except NoDraft:
        return await _lost(update, context)
    if text.strip() == back_label(t):
        return await present_step(update, context, await svc.back(user_id))
    handlers: dict[Step, Callable[[int, str], Awaitable[RegistrationDraft]]] = {
        Step.NAME: svc.set_name,
        Step.PHONE: svc.set_phone,
        Step.ID_NUMBER: svc.set_id_number,
        Step.BIRTH_DATE: svc.set_birth_date,
        Step.AREA: svc.set_area_text,
    }
    handler = handlers.get(draft.step)
    if handler is None:
        notice = t.gettext("Please use the buttons below.")
        return await present_step(update, context, draft, notice=notice)
    try:
        draft = await handler(user_id, text)
    except InvalidInput as error:
        return await present_step(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
    return await present_step(update, context, draft)


async def on_contact(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    if message is None or message.contact is None:
        return ACTIVE
    svc = service(context)
    user_id = context.user.telegram_id
    contact = message.contact
    try:
        draft = await svc.set_phone_from_contact(user_id, contact.phone_number, contact.user_id)
    except NoDraft:
        return await _lost(update, context)
    except WrongStep:
        draft = await svc.current(user_id)
        notice = context.t.gettext("Please use the buttons below.")
        return await present_step(update, context, draft, notice=notice)
    except InvalidInput as error:
        draft = await svc.current(user_id)
        notice = "⚠️ " + error.translate(context.t.gettext)
        return await present_step(update, context, draft, notice=notice)
    return await present_step(update, context, draft)


async def on_button(update: Update, context: ZyContext) -> object:
    """Every ``reg:`` press. A press drawn for another step than the draft's current one (an
    older screen further up the chat) is refused politely and changes nothing, not even that
    old message; a forged one is answered and the current step is shown again."""
    query = update.callback_query
    press = RegPress.parse(query.data if query else None)
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    if press is None:
        await answer(update, t.gettext("This button is no longer valid."))
        return ACTIVE
    action, argument = press.action, press.value
    if action != "quit":
        try:
            current = await svc.current(user_id)
        except NoDraft:
            await answer(update)
            return await _lost(update, context)
        if press.step is not current.step:
            await answer(
                update,
                t.gettext(
                    "This button belongs to an earlier step. Please go on with the latest "
                    "message below."
                ),
                alert=True,
            )
            return ACTIVE
    if action == "confirm":
        return await on_confirm(update, context)
    if action == "quit":
        await svc.discard(user_id)
        await release(context, REGISTRATION_FLOW)
        await answer(update)
        from handlers.start import home_button

        await show(
            update,
            t.gettext("No problem. You can register any time from the menu."),
            home_button(t),
        )
        return END
    try:
        if action == "dec":
            draft = await svc.current(user_id)
            decade = parse_int(argument, 4)
            if draft.step is not Step.BIRTH_DATE or decade is None:
                raise WrongStep
            await answer(update)
            text, _ = await render(draft, context, t)
            await show(update, text, decade_screen(t, decade, svc))
            return ACTIVE
        draft = await _apply(svc, user_id, action, argument)
    except NoDraft:
        await answer(update)
        return await _lost(update, context)
    except WrongStep:
        await answer(update, t.gettext("This button is no longer valid."))
        try:
            draft = await svc.current(user_id)
        except NoDraft:
            return await _lost(update, context)
        return await present_step(update, context, draft)
    except InvalidInput as error:
        await answer(update, error.translate(t.gettext), alert=True)
        return ACTIVE
    await answer(update)
    return await present_step(update, context, draft)


def _number(argument: str) -> int:
    value = parse_int(argument, 6)
    if value is None:
        raise WrongStep
    return value


def _gender(argument: str) -> Gender | None:
    if argument == "skip":
        return None
    try:
        return Gender(argument)
    except ValueError:
        raise WrongStep from None


def _step(argument: str) -> Step:
    try:
        return Step(argument)
    except ValueError:
        raise WrongStep from None


#: What a press does with its value, by action: one service call each. A value that does not
#: parse raises :class:`WrongStep` (answered as "no longer valid").
_ACTIONS: dict[str, Callable[[RegistrationService, int, str], Awaitable[RegistrationDraft]]] = {
    "consent": lambda svc, user, _: svc.accept_consent(user),
    "back": lambda svc, user, _: svc.back(user),
    "g": lambda svc, user, value: svc.set_gender(user, _gender(value)),
    "y": lambda svc, user, value: svc.pick_birth_year(user, _number(value)),
    "m": lambda svc, user, value: svc.pick_birth_month(user, _number(value)),
    "d": lambda svc, user, value: svc.pick_birth_day(user, _number(value)),
    "guardian": lambda svc, user, _: svc.confirm_guardian(user),
    "area": lambda svc, user, value: svc.set_area_code(user, value),
    "sk": lambda svc, user, value: svc.toggle_skill(user, value),
    "cat": lambda svc, user, value: svc.toggle_category(user, value),
    "slot": lambda svc, user, value: svc.toggle_slot(user, _number(value)),
    "grp": lambda svc, user, value: svc.toggle_group(user, value),
    "done": lambda svc, user, _: svc.done(user),
    "edit": lambda svc, user, value: svc.edit_from_review(user, _step(value)),
}


async def _apply(
    svc: RegistrationService, user_id: int, action: str, argument: str
) -> RegistrationDraft:
    act = _ACTIONS.get(action)
    if act is None:
        raise WrongStep
    return await act(svc, user_id, argument)


async def on_confirm(update: Update, context: ZyContext) -> object:
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    editing = await svc.is_editing_profile(user_id)
    try:
        profile = await svc.confirm(user_id)
    except NoDraft:
        await answer(update)
        return await _lost(update, context)
    except WrongStep:
        await answer(update, t.gettext("This button is no longer valid."))
        return await present_step(update, context, await svc.current(user_id))
    except InvalidInput as error:
        await answer(update, error.translate(t.gettext), alert=True)
        return await present_step(update, context, await svc.current(user_id))
    await answer(update)
    from handlers.start import main_menu

    owner = await owned_by(context, REGISTRATION_FLOW)
    await release(context, REGISTRATION_FLOW)
    if editing:
        await show_profile(update, context, notice=t.gettext("✅ Your profile is updated."))
        return END
    pending = owner.int_state(PENDING_ACTIVITY) if owner is not None else None
    if pending is not None:
        from handlers.activity_view import NOWHERE, View
        from handlers.browse import show_card

        await show_card(
            update,
            context,
            pending,
            View(NOWHERE),
            notice=t.gettext(
                "🎉 You are registered as a volunteer, {name}! Thank you. Now you can sign up."
            ).format(name=html(profile.real_name)),
        )
        return END
    text = t.gettext(
        "🎉 You are registered as a volunteer, {name}! Thank you.\n\n"
        "Next: find activities in the service menu. You can see and change your data any "
        "time with /profile."
    ).format(name=html(profile.real_name))
    await show(update, text, main_menu(t))
    return END


async def cancel(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    t = context.t
    await send(
        update,
        t.gettext("Registration paused. Your answers are kept: continue any time with /register."),
        ReplyKeyboardRemove(),
    )
    return END


async def _lost(update: Update, context: ZyContext) -> object:
    """The conversation was active but the draft is gone (finished or deleted elsewhere)."""
    from handlers.start import home_button

    t = context.t
    await release(context, REGISTRATION_FLOW)
    await send(
        update, t.gettext("This registration is already finished or was cancelled."), home_button(t)
    )
    return END


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """A pin, a photo … where an answer was asked: show the step again."""
    try:
        draft = await service(context).current(context.user.telegram_id)
    except NoDraft:
        return await _lost(update, context)
    notice = context.t.gettext("Please use the buttons below.")
    return await present_step(update, context, draft, notice=notice)


REGISTRATION_FLOW = "registration"
#: Flow state keys: the phone step's reply keyboard is up; the card to return to afterwards.
REPLY_KEYBOARD = "reply_keyboard"
PENDING_ACTIVITY = "pending_activity"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(
        REGISTRATION_FLOW,
        on_text=on_text,
        on_contact=on_contact,
        on_other=on_other,
        on_cancel=cancel,
    )
]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler(["register", "profile"], enter))
    for handler, group in press_handlers(
        {MenuOpen(MenuItem.PROFILE): without_press(enter), RegisterFor: enter_for_activity},
        texts=RefusalTexts(),
        invalid=register_for_invalid,
        # Kept for "📝 Register" on cards sent before the typed family: acted on as seen.
        legacy=(r"^su:reg:", legacy_register_for),
    ):
        application.add_handler(handler, group)
    # These two read (and strictly check) their press themselves, so a malformed one goes to
    # them too and is answered with the profile or the current step, as a stale one is.
    pairs: tuple[tuple[type[Press], InvalidHandler], ...] = (
        (ProfEdit, edit_profile_field),
        (RegPress, on_button),
    )
    for family, entry in pairs:
        for handler, group in press_handlers(
            {family: without_press(entry)}, texts=RefusalTexts(), invalid=entry
        ):
            application.add_handler(handler, group)
