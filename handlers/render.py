"""Sending screens: a new message for commands and text, an in-place edit for button presses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from html import escape

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.api_retry import reply_task

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


# The answers of the press being handled, when its dispatcher lets them go out while the
# screen is built (``answering_alongside``); unset, ``answer`` waits for its answer.
_answers_in_flight: ContextVar[list[asyncio.Task[None]] | None] = ContextVar(
    "zhiyuan_answers_in_flight", default=None
)


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (always: otherwise the client shows a spinner for a while).

    Within :func:`answering_alongside` (every press of a press table) the answer goes out while
    the handler carries on building the screen; otherwise this waits for it."""
    query = update.callback_query
    if query is None:
        return
    in_flight = _answers_in_flight.get()
    if in_flight is None:
        await _answer(query, text, alert)
    else:
        in_flight.append(reply_task(_answer(query, text, alert)))


async def _answer(query: CallbackQuery, text: str | None, alert: bool) -> None:
    # An answer that arrives too late is rejected by Telegram; nothing useful to do then.
    with contextlib.suppress(BadRequest):
        await query.answer(text, show_alert=alert)


@contextlib.asynccontextmanager
async def answering_alongside() -> AsyncIterator[None]:
    """Answers given inside go out while the handler goes on (reading the database, drawing
    the screen) instead of before: against Telegram that is a round trip less before every
    press's screen (issue #14). They are all awaited before this ends, so the update is done
    only once its press is answered; an answer that failed is then the update's error, unless
    the handler failed first (its error wins)."""
    in_flight: list[asyncio.Task[None]] = []
    token = _answers_in_flight.set(in_flight)
    try:
        yield
    except BaseException:
        _answers_in_flight.reset(token)
        await asyncio.gather(*in_flight, return_exceptions=True)
        raise
    _answers_in_flight.reset(token)
    for task in in_flight:
        await task
