"""The global error handler: log with context, apologise to the user in their language."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import Application

from bot.context import ZyContext

log = logging.getLogger(__name__)


def describe(update: object) -> str:
    if not isinstance(update, Update):
        return repr(update)[:200]
    user = update.effective_user
    chat = update.effective_chat
    what = "callback " + repr(update.callback_query.data) if update.callback_query else "message"
    if update.effective_message is not None and update.effective_message.text:
        what = "text " + repr(update.effective_message.text[:80])
    return (
        f"update {update.update_id} from user {user.id if user else '-'} "
        f"in chat {chat.id if chat else '-'} ({what})"
    )


async def on_error(update: object, context: ZyContext) -> None:
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        # The Bot API could not be reached (bot.api_retry retried while it made sense): an
        # apology would fail too, or arrive after an answer that did get through (a timeout
        # after the API accepted it). One line, no traceback; the outage itself is a warning
        # there, once.
        log.info("answer to %s failed or may not have arrived: %s", describe(update), context.error)
        return
    log.error("error while handling %s", describe(update), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(context.error, Forbidden):
        return  # the user blocked the bot: telling them is impossible
    t = context.t
    if getattr(context, "_zy_translator", None) is None and update.effective_user is not None:
        t = context.services.translator(
            context.services.accounts.language_for_code(update.effective_user.language_code)
        )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await update.effective_chat.send_message(
            t.gettext(
                "Sorry, something went wrong on our side. Please try again in a moment; "
                "what you entered so far is kept."
            )
        )
    except TelegramError:
        log.warning("could not send the apology for %s", describe(update), exc_info=True)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_error_handler(on_error)
