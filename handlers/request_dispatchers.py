"""``/dispatchers``: the federation's administrators appoint the dispatchers of each area (the
administrators of a civilization-practice centre, station or district), and remove them.

```mermaid
flowchart LR
    cmd["/dispatchers · da.home"] --> areas[areas with their number of dispatchers]
    areas -->|da.area code| area[the area's dispatchers]
    area -->|da.rm code, id| area
    area -->|da.add code: take| who((flow dispatcher_appoint: an id or @username))
    who -->|someone who used the bot| area
    who -->|unknown / malformed| who
```

Only administrators (``ADMIN_IDS`` and those appointed in ``/admin``) may open it; every press
asks :class:`bot.services.requests.RequestService` again. Administrators need no appointment:
they dispatch in every area.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.flows import FlowOwner
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from handlers.callbacks import MenuItem, MenuOpen, button_rows
from handlers.commands import refresh_menu
from handlers.flows import Flow, release, take
from handlers.manage_steps import reprompt
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC, refusing
from handlers.render import answer, html, send, show
from handlers.request_common import TEXTS, DaAppoint, DaArea, DaHome, DaRemove, DpQueue

FLOW = "dispatcher_appoint"
AREA = "area"
PROMPT = N_("Please send a Telegram user id (digits, e.g. 123456789) or an @username.")


def _home(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
    )


async def _home_screen(context: ZyContext) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    rows = await services.requests.dispatchers(context.user.telegram_id)
    counts: dict[str, int] = {}
    for area_code, _tid, _name in rows:
        counts[area_code] = counts.get(area_code, 0) + 1
    buttons = [
        DaArea(area.code).button(f"{area.name(t.language.value)} ({counts.get(area.code, 0)})")
        for area in await services.requests.areas()
    ]
    text = t.gettext(
        "👥 <b>Dispatchers by area</b>\n\nDispatchers see the resident requests of their area "
        "and pass them to organizations. Administrators dispatch everywhere; where an area has "
        "no dispatcher, its new requests go to the administrators."
    )
    keyboard = [
        *button_rows(buttons, 2),
        [DpQueue().button(t.gettext("🗂 Dispatch queue")), _home(t)],
    ]
    return text, InlineKeyboardMarkup(keyboard)


async def on_command(update: Update, context: ZyContext) -> None:
    await send(update, *await _home_screen(context))


async def on_home(update: Update, context: ZyContext, press: DaHome) -> None:
    screen = await _home_screen(context)
    await answer(update)
    await show(update, *screen)


async def _area_screen(context: ZyContext, area_code: str) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    rows = await services.requests.dispatchers(context.user.telegram_id)
    area = await services.requests.area(area_code)
    name = area.name(t.language.value) if area is not None else area_code
    people = [(tid, first) for code, tid, first in rows if code == area_code]
    lines = [t.gettext("👥 <b>Dispatchers of {area}</b>").format(area=html(name)), ""]
    if not people:
        lines.append(t.gettext("Nobody yet."))
    keyboard: list[list[InlineKeyboardButton]] = []
    for tid, first in people:
        lines.append(f"• {html(first)} ({tid})")
        keyboard.append(
            [DaRemove(area_code, tid).button(t.gettext("➖ Remove {name}").format(name=first)[:60])]
        )
    keyboard.append([DaAppoint(area_code).button(t.gettext("➕ Appoint a dispatcher"))])
    keyboard.append([DaHome().button(t.gettext("⬅️ Areas")), _home(t)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def on_area(update: Update, context: ZyContext, press: DaArea) -> None:
    screen = await _area_screen(context, press.area_code)
    await answer(update)
    await show(update, *screen)


async def on_remove(update: Update, context: ZyContext, press: DaRemove) -> None:
    await context.services.requests.remove_dispatcher(
        context.user.telegram_id, press.area_code, press.telegram_id
    )
    await refresh_menu(context, press.telegram_id)
    await answer(update, context.t.gettext("Removed."))
    await show(update, *await _area_screen(context, press.area_code))


async def on_appoint(update: Update, context: ZyContext, press: DaAppoint) -> None:
    await context.services.requests.dispatchers(context.user.telegram_id)  # administrators only
    if await context.services.requests.area(press.area_code) is None:
        await answer(update, context.t.gettext(GENERIC), alert=True)
        return
    await take(context, FLOW, "who", {AREA: press.area_code})
    await answer(update)
    await send(
        update,
        context.t.gettext(
            "Send the Telegram user id (digits) or the @username of the person to appoint. "
            "They must have sent /start to this bot before. /cancel to stop."
        ),
    )


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    area_code = owner.str_state(AREA)
    message = update.effective_message
    if area_code is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    try:
        name, appointed = await context.services.requests.appoint(
            context.user.telegram_id, area_code, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return
    await release(context, FLOW)
    await refresh_menu(context, appointed)
    await send(update, context.t.gettext("✅ {name} is now a dispatcher.").format(name=html(name)))
    await send(update, *await _area_screen(context, area_code))


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, nobody appointed."))


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {DaHome: on_home, DaArea: on_area, DaRemove: on_remove, DaAppoint: on_appoint}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=reprompt(PROMPT))]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("dispatchers", refusing(TEXTS)(on_command)))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
