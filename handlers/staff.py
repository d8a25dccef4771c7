"""The one answer to a refused staff press or step.

``StaffService`` (bot/services/staff.py) re-checks every organizer or administrator action on the
server and raises :class:`StaffRefused` with a reason (it has logged the refusal already).
Every staff screen answers it here, so the same reason always reads the same: an alert on the
pressed button, or a message when the refused step was typed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from typing import Any, Concatenate, ParamSpec, TypeVar

from telegram import Update

from bot.context import ZyContext
from bot.i18n import N_, Translator
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.render import answer, send

P = ParamSpec("P")
R = TypeVar("R")

#: The staff check's refusals, for :class:`handlers.refusals.RefusalTexts` tables too.
STAFF_REFUSALS: dict[StrEnum, str] = {
    StaffRefusal.NOT_FOUND: N_("This button is no longer valid."),
    StaffRefusal.NOT_ALLOWED: N_("Sorry, you are not allowed to do that."),
    StaffRefusal.NOT_ACTIVE: N_("This organization is not active at the moment."),
}


def staff_refusal_text(t: Translator, reason: StaffRefusal) -> str:
    return t.gettext(STAFF_REFUSALS[reason])


async def refuse_staff(
    update: Update, context: ZyContext, error: StaffRefused | None = None
) -> None:
    """A forged or stale staff press (``error`` is ``None`` for malformed callback data):
    a short notice, nothing changed."""
    reason = error.reason if error is not None else StaffRefusal.NOT_FOUND
    text = staff_refusal_text(context.t, reason)
    if update.callback_query is not None:
        await answer(update, text, alert=True)
    else:
        await send(update, text)


def staff_refusing(
    handler: Callable[Concatenate[Update, ZyContext, P], Awaitable[R]],
) -> Callable[Concatenate[Update, ZyContext, P], Coroutine[Any, Any, R | None]]:
    """Answer a :class:`StaffRefused` raised anywhere in ``handler`` with :func:`refuse_staff`
    (and return ``None``) instead of a ``try``/``except`` around each staff call."""

    @functools.wraps(handler)
    async def wrapped(
        update: Update, context: ZyContext, *args: P.args, **kwargs: P.kwargs
    ) -> R | None:
        try:
            return await handler(update, context, *args, **kwargs)
        except StaffRefused as error:
            await refuse_staff(update, context, error)
            return None

    return wrapped
