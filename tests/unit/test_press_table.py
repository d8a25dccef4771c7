"""One dispatcher serves every button: each family of the bot is claimed once, by a table.

The application is built with every handler module registered (no bot, no database: only the
handler list is read).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from typing import Any

import pytest
from telegram.ext import Application, CallbackQueryHandler

from handlers import register_handlers
from handlers.callbacks import PRESS_FAMILIES, MenuItem, MenuOpen
from handlers.press_table import PressQueryHandler, press_handlers, stale_press, without_press
from handlers.refusals import RefusalTexts
from handlers.start import stale_button

#: Button handlers not made by a table yet, by module: handlers.organize belongs to another
#: helper this round (its "🏢 Organize" menu entry moves to a table at merge time).
NOT_YET = {("handlers.organize", MenuOpen(MenuItem.ORGANIZE).exact_pattern())}


@pytest.fixture(scope="module")
def button_handlers() -> list[tuple[int, CallbackQueryHandler[Any, Any]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no JobQueue": the jobs are not what is looked at
        application = Application.builder().token("1:x").job_queue(None).updater(None).build()
        register_handlers(application)
    return [
        (group, handler)
        for group, handlers in application.handlers.items()
        for handler in handlers
        if isinstance(handler, CallbackQueryHandler)
    ]


def _pattern(handler: CallbackQueryHandler[Any, Any]) -> str | None:
    pattern = handler.pattern
    return pattern.pattern if isinstance(pattern, re.Pattern) else None


def test_every_button_handler_comes_from_a_table(
    button_handlers: list[tuple[int, CallbackQueryHandler[Any, Any]]],
) -> None:
    strays = [
        (handler.callback.__module__, _pattern(handler))
        for _, handler in button_handlers
        if not isinstance(handler, PressQueryHandler)
    ]
    # The one catch-all: data no family claims (forged, or of a removed screen) is answered.
    catch_alls = [h for _, h in button_handlers if h.pattern is None]
    assert [h.callback for h in catch_alls] == [stale_button]
    assert set(strays) - {("handlers.start", None)} <= NOT_YET
    [(group, _)] = [(g, h) for g, h in button_handlers if h is catch_alls[0]]
    in_its_group = [h for g, h in button_handlers if g == group]
    assert in_its_group[-1] is catch_alls[0], "the catch-all must come last in its group"


def test_each_family_and_press_is_claimed_once_per_group(
    button_handlers: list[tuple[int, CallbackQueryHandler[Any, Any]]],
) -> None:
    claims = Counter(
        (group, handler.claims)
        for group, handler in button_handlers
        if isinstance(handler, PressQueryHandler)
    )
    assert [claim for claim, n in claims.items() if n > 1] == []


def test_every_family_has_a_handler(
    button_handlers: list[tuple[int, CallbackQueryHandler[Any, Any]]],
) -> None:
    claimed = {h.claims for _, h in button_handlers if isinstance(h, PressQueryHandler)}
    not_yet = {pattern for _, pattern in NOT_YET}
    # The main menu's entries are served by different modules, each claiming its own entry.
    entries = [MenuOpen(item) for item in MenuItem]
    assert [
        e for e in entries if e.pack() not in claimed and e.exact_pattern() not in not_yet
    ] == []
    assert set(PRESS_FAMILIES) - claimed - {MenuOpen.prefix} == set()


async def _nothing(*_: object) -> None:
    return None


def test_a_table_key_may_be_one_press() -> None:
    made = press_handlers(
        {MenuOpen(MenuItem.MY): without_press(_nothing)},
        texts=RefusalTexts(),
        invalid=stale_press,
    )
    [(handler, group)] = made
    assert group == 0 and isinstance(handler, PressQueryHandler)
    assert handler.claims == "menu:my"
    assert handler.check_update(_press("menu:my"))
    assert not handler.check_update(_press("menu:myx"))
    assert not handler.check_update(_press("menu:browse"))


def _press(data: str) -> Any:
    from telegram import CallbackQuery, Update, User

    user = User(1, "A", is_bot=False)
    return Update(1, callback_query=CallbackQuery("1", user, "chat", data=data))
