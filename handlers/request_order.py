"""点单: a resident orders a service from the menu (any Telegram user, no registration).

```mermaid
flowchart LR
    entry["/request · menu:request"] --> draft{draft kept?}
    draft -->|no| cat[1 category: buttons]
    draft -->|yes| where_left[the step it was left at]
    cat -->|rq.ch category| need((2 what is needed: text, no phone numbers))
    need --> when((3 when: 12/5 9:00-11:00, 明天上午9点))
    when --> area[4 district: buttons]
    area -->|rq.ch area| address((5 address: text or a map pin))
    address --> whom[6 for whom: buttons]
    whom -->|rq.ch beneficiary| contact((7 contact: shared contact or typed number))
    contact --> urgent[8 urgent? yes / no]
    urgent -->|rq.ch urgent| preview[preview]
    preview -->|rq.ed step| edit[that question again] --> preview
    preview -->|rq.send| sent[request queued; dispatchers told]
    preview & cat & need -->|rq.quit| gone[draft discarded]
    need & when & address & contact -->|/cancel| kept[draft kept for later]
```

The answers live in ``request_drafts`` (one per person), the step being asked in the draft and
in the flow record (taken *before* the question is shown), so a restart, a second process or
``/cancel`` loses nothing. Every typed answer is validated with a localized answer: the need
(4–300 characters, phone numbers refused: the contact step is where they go), the time
(:func:`bot.domain.dateparse.parse_when`, in the future), the address (4–120 characters) and the
phone (:func:`bot.domain.validation.normalize_phone`).
"""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext, nudge_outbox
from bot.domain.flows import FlowOwner
from bot.domain.requests import (
    ADDRESS_MAX,
    NEED_MAX,
    Beneficiary,
    DraftRow,
    OrderStep,
    RequestDraft,
)
from bot.domain.validation import InvalidInput, format_phone_for_display
from bot.i18n import N_, Translator
from bot.services.requests import RequestService
from handlers.callbacks import MenuItem, MenuOpen, button_rows
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers, without_press
from handlers.refusals import GENERIC, refusing
from handlers.render import answer, html, send, show
from handlers.request_common import (
    BENEFICIARY_LABELS,
    TEXTS,
    MrList,
    RqChoose,
    RqEdit,
    RqQuit,
    RqSend,
)

FLOW = "request_order"
#: The questions (the preview is not one), for "step 3 of 8".
QUESTIONS: list[OrderStep] = [step for step in OrderStep if step is not OrderStep.PREVIEW]
TYPED = frozenset({OrderStep.NEED, OrderStep.WHEN, OrderStep.ADDRESS, OrderStep.CONTACT})

EDIT_LABELS: dict[OrderStep, str] = {
    OrderStep.CATEGORY: N_("Kind of service"),
    OrderStep.NEED: N_("What is needed"),
    OrderStep.WHEN: N_("When"),
    OrderStep.AREA: N_("District"),
    OrderStep.ADDRESS: N_("Address"),
    OrderStep.BENEFICIARY: N_("For whom"),
    OrderStep.CONTACT: N_("Contact"),
    OrderStep.URGENT: N_("Urgent"),
}


def _quit_row(t: Translator) -> list[InlineKeyboardButton]:
    return [RqQuit().button(t.gettext("🗑 Discard the order"))]


def _progress(t: Translator, step: OrderStep) -> str:
    return t.gettext("Request a service · step {n} of {total}").format(
        n=QUESTIONS.index(step) + 1, total=len(QUESTIONS)
    )


async def _preview(context: ZyContext, draft: RequestDraft) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    category = await services.requests.category(draft.category_code or "")
    area = await services.requests.area(draft.area_code or "")
    lang = t.language.value
    when = ""
    if draft.starts_at is not None:
        when = (
            t.format_span(draft.starts_at, draft.ends_at)
            if draft.ends_at is not None
            else t.format_moment(draft.starts_at)
        )
    lines = [
        t.gettext("<b>Please check your request</b>"),
        "",
        t.labelled(N_("Kind of service"), html(category.name(lang) if category else "")),
        t.labelled(N_("What is needed"), html(draft.need or "")),
        t.labelled(N_("When"), when),
        t.labelled(N_("District"), html(area.name(lang) if area else "")),
        t.labelled(N_("Address"), html(draft.address or "")),
        t.labelled(
            N_("For whom"),
            t.gettext(BENEFICIARY_LABELS[draft.beneficiary]) if draft.beneficiary else "",
        ),
        t.labelled(
            N_("Contact"),
            f"{html(draft.contact_name or '')} {html(format_phone_for_display(draft.phone or ''))}",
        ),
        t.labelled(N_("Urgent"), t.gettext("Yes") if draft.urgent else t.gettext("No")),
        "",
        t.gettext(
            "Your address and phone are shown only to the dispatcher and to the team that takes "
            "your request, and are erased 30 days after it is closed."
        ),
    ]
    edits = [RqEdit(step).button("✏️ " + t.gettext(label)) for step, label in EDIT_LABELS.items()]
    keyboard = [[RqSend().button(t.gettext("✅ Send the request"))], *button_rows(edits, 2)]
    keyboard.append(_quit_row(t))
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def _question(
    context: ZyContext, step: OrderStep
) -> tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup]:
    t = context.t
    services = context.services
    lang = t.language.value
    head = _progress(t, step) + "\n\n"
    if step is OrderStep.CATEGORY:
        buttons = [
            RqChoose(step, item.code).button(item.name(lang))
            for item in await services.requests.categories()
        ]
        text = head + t.gettext(
            "🙋 <b>What kind of service do you need?</b>\nVolunteers of your district can help "
            "with the services of this menu."
        )
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), _quit_row(t)])
    if step is OrderStep.NEED:
        text = head + t.gettext(
            "<b>What is needed?</b> Please describe it in a few words (up to {limit} "
            "characters), e.g. “buy groceries and medicine for my grandmother”. Leave out phone "
            "numbers: they come in a later step."
        ).format(limit=NEED_MAX)
        return text, InlineKeyboardMarkup([_quit_row(t)])
    if step is OrderStep.WHEN:
        text = head + t.gettext(
            "<b>When?</b> Type the day and time, e.g. 12/5 9:00-11:00, 2026-12-05 14:00 or "
            "明天 上午9点."
        )
        return text, InlineKeyboardMarkup([_quit_row(t)])
    if step is OrderStep.AREA:
        buttons = [
            RqChoose(step, item.code).button(item.name(lang))
            for item in await services.requests.areas()
        ]
        text = head + t.gettext("<b>In which district?</b>")
        return text, InlineKeyboardMarkup([*button_rows(buttons, 2), _quit_row(t)])
    if step is OrderStep.ADDRESS:
        text = head + t.gettext(
            "<b>Where exactly?</b> Type the address (street, building, flat; up to {limit} "
            "characters), or send a location pin (📎 → Location)."
        ).format(limit=ADDRESS_MAX)
        return text, InlineKeyboardMarkup([_quit_row(t)])
    if step is OrderStep.BENEFICIARY:
        buttons = [
            RqChoose(step, who.value).button(t.gettext(BENEFICIARY_LABELS[who]))
            for who in Beneficiary
        ]
        text = head + t.gettext("<b>For whom is the service?</b>")
        return text, InlineKeyboardMarkup([*button_rows(buttons, 1), _quit_row(t)])
    if step is OrderStep.CONTACT:
        text = head + t.gettext(
            "<b>A contact phone number.</b> Tap the button below to share the number of this "
            "Telegram account, share a relative's contact, or type the number."
        )
        return text, ReplyKeyboardMarkup(
            [[KeyboardButton(t.gettext("📱 Share my phone number"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    text = head + t.gettext(
        "<b>Is it urgent?</b> For example an elderly person living alone who needs help today. "
        "Urgent requests are handled first."
    )
    buttons = [
        RqChoose(OrderStep.URGENT, "yes").button(t.gettext("🔴 Yes, urgent")),
        RqChoose(OrderStep.URGENT, "no").button(t.gettext("No")),
    ]
    return text, InlineKeyboardMarkup([buttons, _quit_row(t)])


async def _show(
    update: Update, context: ZyContext, step: OrderStep, draft: RequestDraft, *, new: bool
) -> None:
    """Show ``step`` (the flow takes the input first, so a crash after it loses nothing)."""
    await take(context, FLOW, step.value)
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup
    if step is OrderStep.PREVIEW:
        text, markup = await _preview(context, draft)
    else:
        text, markup = await _question(context, step)
    if isinstance(markup, ReplyKeyboardMarkup) or new:
        await send(update, text, markup)
    else:
        await show(update, text, markup)


def _step(value: str) -> OrderStep:
    try:
        return OrderStep(value)
    except ValueError:
        return OrderStep.CATEGORY


# ------------------------------------------------------------------------- entry points


async def on_command(update: Update, context: ZyContext) -> None:
    await answer(update)
    row = await context.services.requests.start_order(context.user.telegram_id)
    if row.data != RequestDraft():
        await send(
            update,
            context.t.gettext("You have an order in progress; here is where you left off."),
        )
    await _show(update, context, _step(row.step), row.data, new=update.callback_query is None)


# ------------------------------------------------------------------------- buttons


async def on_choose(update: Update, context: ZyContext, press: RqChoose) -> None:
    row = await context.services.requests.choose(context.user.telegram_id, press.step, press.value)
    await answer(update)
    await _show(update, context, _step(row.step), row.data, new=False)


async def on_edit(update: Update, context: ZyContext, press: RqEdit) -> None:
    if press.step is OrderStep.PREVIEW:
        await answer(update, context.t.gettext(GENERIC), alert=True)
        return
    row = await context.services.requests.go_to(context.user.telegram_id, press.step)
    await answer(update)
    await _show(update, context, press.step, row.data, new=False)


async def on_send(update: Update, context: ZyContext, press: RqSend) -> None:
    t = context.t
    request = await context.services.requests.submit(context.user.telegram_id)
    await release(context, FLOW)
    nudge_outbox(context)
    await answer(update, t.gettext("Sent!"))
    text = t.gettext(
        "✅ <b>Your request #{number} is sent.</b>\n\nA dispatcher of your district will pass "
        "it to a volunteer team; you will be told at every step. Follow it or cancel it with "
        "/requests."
    ).format(number=request.request_id)
    markup = InlineKeyboardMarkup(
        [
            [MrList().button(t.gettext("📮 My requests"))],
            [
                InlineKeyboardButton(
                    t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
                )
            ],
        ]
    )
    await show(update, text, markup)


async def on_quit(update: Update, context: ZyContext, press: RqQuit) -> None:
    t = context.t
    await context.services.requests.discard(context.user.telegram_id)
    await release(context, FLOW)
    await answer(update)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
                )
            ]
        ]
    )
    await show(update, t.gettext("The order is discarded."), markup)


# ------------------------------------------------------------------------- typed answers


async def _after_typed(
    update: Update, context: ZyContext, row: DraftRow, *, had_keyboard: bool
) -> None:
    if had_keyboard:
        # Take the contact step's keyboard away before going on.
        await send(update, context.t.gettext("✓ Saved."), ReplyKeyboardRemove())
    await _show(update, context, _step(row.step), row.data, new=True)


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    step = _step(owner.waiting_for)
    requests: RequestService = context.services.requests
    uid = context.user.telegram_id
    try:
        if step is OrderStep.NEED:
            row = await requests.type_need(uid, message.text)
        elif step is OrderStep.WHEN:
            row = await requests.type_when(uid, message.text)
        elif step is OrderStep.ADDRESS:
            row = await requests.type_address(uid, message.text)
        elif step is OrderStep.CONTACT:
            row = await requests.type_phone(uid, message.text, context.user.first_name)
        else:
            await send(update, context.t.gettext("Please use the buttons below the question."))
            found = await requests.draft(uid)
            if found is not None:
                await _show(update, context, step, found.data, new=True)
            return
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))  # still waiting for it
        return
    await _after_typed(update, context, row, had_keyboard=step is OrderStep.CONTACT)


@flow_refusing(TEXTS)
async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    if _step(owner.waiting_for) is not OrderStep.ADDRESS:
        await send(update, context.t.gettext("Please answer the question above."))
        return
    row = await context.services.requests.pin(
        context.user.telegram_id, message.location.latitude, message.location.longitude
    )
    await _after_typed(update, context, row, had_keyboard=False)


@flow_refusing(TEXTS)
async def on_contact(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.contact is None:
        return
    if _step(owner.waiting_for) is not OrderStep.CONTACT:
        await send(update, context.t.gettext("Please answer the question above."))
        return
    contact = message.contact
    try:
        row = await context.services.requests.share_contact(
            context.user.telegram_id, contact.phone_number, contact.first_name
        )
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return
    await _after_typed(update, context, row, had_keyboard=True)


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(
        update,
        context.t.gettext("OK. Your order is kept: continue it any time with /request."),
        ReplyKeyboardRemove(),
    )


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer the question above."))


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {RqChoose: on_choose, RqEdit: on_edit, RqSend: on_send, RqQuit: on_quit}

FLOWS = [
    Flow(
        FLOW,
        on_text=on_text,
        on_location=on_location,
        on_contact=on_contact,
        on_cancel=on_cancel,
        on_other=on_other,
    )
]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("request", refusing(TEXTS)(on_command)))
    for handler, group in press_handlers(
        {MenuOpen(MenuItem.REQUEST): without_press(on_command), **PRESSES},
        texts=TEXTS,
        invalid=_invalid,
    ):
        application.add_handler(handler, group)
