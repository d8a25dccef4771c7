"""Dispatch by table: one callback handler per module prefix, one function per button family.

A module's buttons are :class:`~handlers.callbacks.Press` families sharing a prefix (``adm.ap``,
``adm.rj`` …). Instead of splitting the callback data and walking an ``if action == …`` chain,
the module lists ``{family: handler}``; the press is parsed by its family (strictly: forged data
parses to nothing) and the handler receives the typed press. Data under the prefix that no
family parses (forged, or drawn by an older version of the bot) goes to ``on_malformed``.

Refusals raised by a service while handling a press are answered by ``on_refused`` (usually
:func:`handlers.refusals.answer_refusal` with the module's texts), so the handlers only say what
happens when things go right.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import ZyContext
from bot.domain.refusals import Refused
from handlers.callbacks import Press

#: Handles one typed press.
PressHandler = Callable[[Update, ZyContext, Any], Awaitable[object]]
#: Answers a press that no family parses.
Fallback = Callable[[Update, ZyContext], Awaitable[object]]
#: Answers a service's refusal.
RefusalHandler = Callable[[Update, ZyContext, Refused], Awaitable[object]]


class PressTable:
    def __init__(
        self,
        prefix: str,
        handlers: Mapping[type[Press], PressHandler],
        *,
        on_malformed: Fallback,
        on_refused: RefusalHandler,
    ) -> None:
        for family in handlers:
            if not family.prefix.startswith(prefix + "."):
                raise ValueError(f"{family.__name__} ({family.prefix}) is not under {prefix!r}")
        self.prefix = prefix
        self._handlers = dict(handlers)
        self._on_malformed = on_malformed
        self._on_refused = on_refused

    def pattern(self) -> str:
        return rf"^{re.escape(self.prefix)}\."

    async def __call__(self, update: Update, context: ZyContext) -> object:
        data = update.callback_query.data if update.callback_query is not None else None
        try:
            for family, handler in self._handlers.items():
                press = family.parse(data)
                if press is not None:
                    return await handler(update, context, press)
            return await self._on_malformed(update, context)
        except Refused as error:
            return await self._on_refused(update, context, error)

    def handler(self) -> CallbackQueryHandler[Any, object]:
        return CallbackQueryHandler(self, pattern=self.pattern())
