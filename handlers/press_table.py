"""Button handlers from a table: one typed family (:class:`~handlers.callbacks.Press`), one
function.

A module declares what each of its button families does::

    PRESSES: PressTable = {ManageCard: on_card, RosterShown: on_roster, ...}

and registers :func:`press_handlers` ``(PRESSES, texts=TEXTS, invalid=...)``. Each family gets
its own ``CallbackQueryHandler`` (routed by its prefix); the data is parsed strictly, so a
malformed or forged press never reaches the function (it gets ``invalid``), and a service's
refusal is answered from the module's :class:`~handlers.refusals.RefusalTexts` (through
:func:`~handlers.refusals.refusing`) instead of a ``try``/``except`` in every function.

Buttons drawn before the typed families (still in chats after an upgrade, or drawn by a module
that has not moved yet) may be read by a ``legacy`` parser that turns the old data into the same
press, so there is one function per action whichever way it arrives.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import ZyContext
from bot.domain.flows import FlowOwner
from bot.domain.refusals import Refused
from handlers.callbacks import Press
from handlers.flows import FlowHandler, release
from handlers.refusals import RefusalTexts, answer_refusal, refusing

#: What one family's press does; gets the parsed press.
PressHandler = Callable[[Update, ZyContext, Any], Awaitable[object]]
PressTable = Mapping[type[Press], PressHandler]
#: Answers a press whose data does not parse (forged, or from an incompatible version).
InvalidHandler = Callable[[Update, ZyContext], Awaitable[object]]
#: Reads old-format callback data into a press of the table (``None``: not readable).
LegacyParser = Callable[[str], Press | None]


def _data(update: Update) -> str:
    query = update.callback_query
    return (query.data or "") if query is not None else ""


def press_handlers(
    table: PressTable,
    *,
    texts: RefusalTexts,
    invalid: InvalidHandler,
    legacy: tuple[str, LegacyParser] | None = None,
    group: int = 0,
) -> list[tuple[CallbackQueryHandler[Any, Any], int]]:
    """One handler per family of ``table`` (and one for ``legacy``: a pattern and a parser),
    each with the group to register it in."""

    async def dispatch(update: Update, context: ZyContext, press: Press | None) -> object:
        handler = table.get(type(press)) if press is not None else None
        if handler is None:
            return await invalid(update, context)

        @refusing(texts)
        async def run(update: Update, context: ZyContext) -> object:
            return await handler(update, context, press)

        return await run(update, context)

    def for_family(
        family: type[Press],
    ) -> Callable[[Update, ZyContext], Coroutine[Any, Any, object]]:
        async def on_press(update: Update, context: ZyContext) -> object:
            return await dispatch(update, context, family.parse(_data(update)))

        on_press.__name__ = f"on_{family.__name__}"
        return on_press

    handlers: list[tuple[CallbackQueryHandler[Any, Any], int]] = [
        (CallbackQueryHandler(for_family(family), pattern=family.pattern()), group)
        for family in table
    ]
    if legacy is not None:
        pattern, parse = legacy

        async def on_legacy(update: Update, context: ZyContext) -> object:
            return await dispatch(update, context, parse(_data(update)))

        handlers.append((CallbackQueryHandler(on_legacy, pattern=re.compile(pattern)), group))
    return handlers


def flow_refusing(texts: RefusalTexts) -> Callable[[FlowHandler], FlowHandler]:
    """Wrap a flow's typed-input handler: a service's refusal (the organizer was removed from
    the organization meanwhile …) is answered from ``texts`` and ends the flow, since the
    answer it waits for can no longer be used."""

    def wrap(handler: FlowHandler) -> FlowHandler:
        @functools.wraps(handler)
        async def wrapped(update: Update, context: ZyContext, owner: FlowOwner) -> object:
            try:
                return await handler(update, context, owner)
            except Refused as error:
                await release(context, owner.flow)
                await answer_refusal(update, context, error, texts)
                return None

        return wrapped

    return wrap
