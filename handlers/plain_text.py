"""Typed text no flow is waiting for (the dispatcher's default, :mod:`handlers.flows`): a
greeting gets the main menu, a wish to sign up the service menu, a few words a search of them
(:mod:`bot.domain.plain_words`); anything else the help hint."""

from __future__ import annotations

from telegram import Update

from bot.context import ZyContext
from bot.domain.plain_words import PlainWords, classify
from handlers import browse, checkin, start
from handlers.render import send


async def on_plain_text(update: Update, context: ZyContext) -> None:
    message = update.effective_message
    text = message.text if message is not None else None
    kind = classify(text) if text else PlainWords.UNKNOWN
    t = context.t
    if text and await checkin.try_typed_code(update, context, text):
        return
    if kind is PlainWords.GREETING:
        await send(update, start.welcome_text(t, context.user.first_name), start.main_menu(t))
    elif kind is PlainWords.SIGN_UP:
        notice = t.gettext(
            "Choose a kind of service to find activities you can sign up for, or tap ⭐ For you."
        )
        await browse.render_menu(update, context, notice=notice)
    elif kind is PlainWords.SEARCH and text is not None:
        await browse.search_for(update, context, text)
    else:
        await start.unknown_text(update, context)
