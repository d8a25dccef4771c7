"""One way to answer a refused action: a table of texts per reason and a wrapper.

Services raise :class:`bot.domain.refusals.Refused` subclasses. A handler module declares the
texts of the reasons it may meet and wraps its handlers::

    TEXTS = RefusalTexts(STAFF_REFUSALS, {ManageRefusal.STARTED: N_("It has already started.")})

    @refusing(TEXTS)
    async def on_close(update: Update, context: ZyContext) -> None: ...

A refusal is answered as an alert on the pressed button, or as a message when the refused step
was typed; nothing changed. A reason with no text gets the generic "no longer valid" (and a
warning in the log, since that is a missing text). Refusals that need more than a notice (re-show
a card, offer the waitlist) keep their own ``except`` in the handler, which runs first.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from telegram import Update

from bot.context import ZyContext
from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput
from bot.i18n import N_
from handlers.render import answer, send

log = logging.getLogger(__name__)

GENERIC = N_("This button is no longer valid.")

R = TypeVar("R")
#: PTB wants coroutine functions (not any awaitable) for its handlers.
Handler = Callable[[Update, ZyContext], Coroutine[Any, Any, R]]


class RefusalTexts:
    """Message ids by reason. Reasons of different enums never clash, even with equal values
    (``StrEnum`` members compare equal to their value, so a plain dict would mix them)."""

    def __init__(self, *tables: Mapping[StrEnum, str]) -> None:
        self._texts: dict[tuple[type[StrEnum], str], str] = {}
        for table in tables:
            for reason, text in table.items():
                self._texts[(type(reason), reason.value)] = text

    def text_for(self, reason: StrEnum) -> str | None:
        return self._texts.get((type(reason), reason.value))


#: Runs after the notice, e.g. to show the card again with the reason on top.
Then = Callable[[Update, ZyContext, Refused, str], Awaitable[None]]


async def answer_refusal(
    update: Update,
    context: ZyContext,
    error: Refused,
    texts: RefusalTexts,
    then: Then | None = None,
) -> None:
    message_id = texts.text_for(error.reason)
    if message_id is None:
        log.warning("no text for refusal %s.%s", type(error.reason).__name__, error.reason.name)
        message_id = GENERIC
    text = context.t.gettext(message_id)
    when = getattr(error, "when", None)
    if isinstance(when, datetime) and "{when}" in text:
        # A refusal that names a moment ("check-in opens at 08:30") in the user's time zone.
        text = text.format(when=context.t.format_moment(when))
    if update.callback_query is not None:
        await answer(update, text, alert=True)
    else:
        await send(update, text)
    if then is not None:
        await then(update, context, error, text)


def refusing(
    texts: RefusalTexts, *, then: Then | None = None
) -> Callable[[Handler[R]], Handler[R | None]]:
    """Wrap a handler so that a service's refusal is answered from ``texts`` (then ``then``)."""

    def wrap(handler: Handler[R]) -> Handler[R | None]:
        @functools.wraps(handler)
        async def wrapped(update: Update, context: ZyContext) -> R | None:
            try:
                return await handler(update, context)
            except Refused as error:
                await answer_refusal(update, context, error, texts, then)
                return None
            except InvalidInput as error:
                if update.callback_query is None:
                    raise  # typed input is answered where it is asked for
                # A press carries only values its screen offered; another one was forged or
                # drawn by an older version of the screen. Say what is acceptable, change nothing.
                log.warning("press %r refused: %s", update.callback_query.data, error)
                await answer(update, error.translate(context.t.gettext), alert=True)
                return None

        return wrapped

    return wrap


# ------------------------------------------------------------------ refusals that re-show a screen

PressT = TypeVar("PressT")
RefusedT = TypeVar("RefusedT", bound=Refused)
#: A table's press handler (handlers.press_table): gets the parsed press.
PressHandlerOf = Callable[[Update, ZyContext, PressT], Awaitable[object]]
#: Answers a refusal of a press in a module's own words and shows the screen again (the press
#: says which screen it was drawn on), e.g. the activity card with the reason on top.
ScreenAfterRefusal = Callable[[Update, ZyContext, RefusedT, PressT], Awaitable[None]]


def refusing_with_screen(
    refused: type[RefusedT], screen: ScreenAfterRefusal[RefusedT, PressT]
) -> Callable[[PressHandlerOf[PressT]], PressHandlerOf[PressT]]:
    """Wrap a press handler so that a refusal of type ``refused`` raised anywhere in it is
    answered by ``screen`` (alert, then the screen as it is now); others pass on to the
    table's texts (:func:`refusing`)."""

    def wrap(handler: PressHandlerOf[PressT]) -> PressHandlerOf[PressT]:
        @functools.wraps(handler)
        async def wrapped(update: Update, context: ZyContext, press: PressT) -> object:
            try:
                return await handler(update, context, press)
            except refused as error:
                await screen(update, context, error, press)
                return None

        return wrapped

    return wrap
