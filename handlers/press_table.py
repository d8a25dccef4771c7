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

A key may also be one press rather than a family (``{MenuOpen(MenuItem.MY): on_my}``): for a
family whose values are served by different modules, like the main menu's entries.

Every button handler of the bot comes from here (a :class:`PressQueryHandler`, which says what
it claims), except the one catch-all for data no family claims (:func:`handlers.start.
stale_button`); ``tests/unit/test_press_table.py`` checks that over the whole application.
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
from handlers.refusals import GENERIC, RefusalTexts, answer_refusal, refusing
from handlers.render import answer, answering_alongside

#: What one family's press does; gets the parsed press.
PressHandler = Callable[[Update, ZyContext, Any], Awaitable[object]]
#: A family (every press of it) or one press (exactly that data) → what it does.
PressTable = Mapping[type[Press] | Press, PressHandler]
#: Answers a press whose data does not parse (forged, or from an incompatible version).
InvalidHandler = Callable[[Update, ZyContext], Awaitable[object]]
#: Reads old-format callback data into a press of the table (``None``: not readable).
LegacyParser = Callable[[str], Press | None]
#: Answers a service's refusal in a module's own way (instead of from its texts).
RefusalHandler = Callable[[Update, ZyContext, Refused], Awaitable[object]]


class PressQueryHandler(CallbackQueryHandler[Any, Any]):
    """A button handler made by :func:`press_handlers`; ``claims`` says what data it takes: a
    family's prefix, one press's exact data, a legacy pattern or a module's prefix."""

    def __init__(
        self,
        callback: Callable[[Update, ZyContext], Coroutine[Any, Any, object]],
        matches: Callable[[object], bool] | re.Pattern[str],
        claims: str,
    ) -> None:
        super().__init__(callback, pattern=matches)
        self.claims = claims


def without_press(
    handler: Callable[[Update, ZyContext], Awaitable[object]],
) -> PressHandler:
    """A table entry for a screen that needs nothing from the press (``{MenuOpen(HOME): …}``)."""

    async def on_press(update: Update, context: ZyContext, press: Any) -> object:
        return await handler(update, context)

    on_press.__name__ = getattr(handler, "__name__", "on_press")
    return on_press


async def stale_press(update: Update, context: ZyContext) -> None:
    """The plain answer to data no family of a table reads: the button is no longer valid."""
    await answer(update, context.t.gettext(GENERIC), alert=True)


def _data(update: Update) -> str:
    query = update.callback_query
    return (query.data or "") if query is not None else ""


def _under(head: str) -> Callable[[object], bool]:
    return lambda data: isinstance(data, str) and data.startswith(head)


def press_handlers(
    table: PressTable,
    *,
    texts: RefusalTexts | None = None,
    invalid: InvalidHandler,
    on_refused: RefusalHandler | None = None,
    legacy: tuple[str, LegacyParser] | None = None,
    prefix: str | None = None,
    group: int = 0,
) -> list[tuple[CallbackQueryHandler[Any, Any], int]]:
    """One handler per family of ``table`` (and one for ``legacy``: a pattern and a parser),
    each with the group to register it in. A refusal is answered from ``texts``, or by
    ``on_refused`` for a module that words its refusals itself (one of the two is needed).

    ``prefix`` claims all data under a module's prefix (``adm`` → ``adm.…``): data there that
    no family parses goes to ``invalid`` of this module, which knows the person (a stranger is
    told the screen is not for them, staff that the button is old), instead of the bot-wide
    "no longer valid"."""
    if (texts is None) == (on_refused is None):
        raise ValueError("press_handlers needs either texts or on_refused")

    async def dispatch(update: Update, context: ZyContext, press: Press | None) -> object:
        handler = None
        if press is not None:
            handler = table.get(press) or table.get(type(press))

        # ``invalid`` too may be refused (it re-checks who presses), so both are wrapped.
        async def run(update: Update, context: ZyContext) -> object:
            if handler is None:
                return await invalid(update, context)
            return await handler(update, context, press)

        if on_refused is not None:
            try:
                return await run(update, context)
            except Refused as error:
                return await on_refused(update, context, error)
        assert texts is not None
        return await refusing(texts)(run)(update, context)

    def for_key(key: type[Press] | Press) -> PressQueryHandler:
        family = key if isinstance(key, type) else type(key)

        async def on_press(update: Update, context: ZyContext) -> object:
            async with answering_alongside():
                return await dispatch(update, context, family.parse(_data(update)))

        on_press.__name__ = f"on_{family.__name__}"
        if isinstance(key, type):
            return PressQueryHandler(on_press, key.matches, key.prefix)
        return PressQueryHandler(on_press, key.exactly(), key.pack())

    handlers: list[tuple[CallbackQueryHandler[Any, Any], int]] = [
        (for_key(key), group) for key in table
    ]
    if legacy is not None:
        pattern, parse = legacy

        async def on_legacy(update: Update, context: ZyContext) -> object:
            return await dispatch(update, context, parse(_data(update)))

        # Old data is read by its regex (a handful of handlers, only for buttons drawn before).
        old = re.compile(pattern)
        handlers.append((PressQueryHandler(on_legacy, old, f"legacy {pattern}"), group))
    if prefix is not None:
        for key in table:
            family = key if isinstance(key, type) else type(key)
            if not family.prefix.startswith(prefix + "."):
                raise ValueError(f"{family.__name__} ({family.prefix}) is not under {prefix!r}")

        async def on_unknown(update: Update, context: ZyContext) -> object:
            return await dispatch(update, context, None)

        # After the families: PTB runs the first handler of a group whose pattern matches.
        under = prefix + "."
        handlers.append((PressQueryHandler(on_unknown, _under(under), f"{prefix}.*"), group))
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
