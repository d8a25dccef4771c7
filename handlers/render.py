"""Sending screens: a new message for commands and text, an in-place edit for button presses."""

from __future__ import annotations

import contextlib
import logging
from html import escape

from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def html(text: object) -> str:
    """Escape user-provided text before it goes into an HTML message."""
    return escape(str(text), quote=False)


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message's content, or send a new message when there is none."""
    if markup is not None and not markup.inline_keyboard:
        # A screen that has no button for this person (a visitor on /stars, say): no keyboard
        # rather than an empty one, which the Bot API may refuse as unparsable.
        markup = None
    query = update.callback_query
    if query is not None and query.message is not None and isinstance(query.message, Message):
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return
        except BadRequest as error:
            if "message is not modified" in str(error).lower():
                return
            # Too old to edit, deleted, or not a text message: fall through to a new message.
            log.info("could not edit message, sending a new one: %s", error)
    await send(update, text, markup)


async def send(update: Update, text: str, markup: Markup = None) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (always: otherwise the client shows a spinner for a while)."""
    query = update.callback_query
    if query is None:
        return
    # An answer that arrives too late is rejected by Telegram; nothing useful to do then.
    with contextlib.suppress(BadRequest):
        await query.answer(text, show_alert=alert)
