"""One dispatcher serves every button: each family of the bot is claimed once, by a table.

The application is built with every handler module registered and loaded (no bot, no database:
only the handler list is read).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from telegram.ext import Application, CallbackQueryHandler

from handlers import publish_form, recruit, register_handlers, reminders
from handlers.activity_view import OpenCard, OpenList, legacy_view_press
from handlers.callbacks import (
    PRESS_FAMILIES,
    MenuItem,
    MenuOpen,
    Press,
    RegisterFor,
    legacy_fields,
    legacy_register_for,
    parse_id,
)
from handlers.lazy import expanded
from handlers.press_table import PressQueryHandler, press_handlers, stale_press, without_press
from handlers.refusals import RefusalTexts
from handlers.start import stale_button


@pytest.fixture(scope="module")
def button_handlers() -> list[tuple[int, CallbackQueryHandler[Any, Any]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no JobQueue": the jobs are not what is looked at
        application = Application.builder().token("1:x").job_queue(None).updater(None).build()
        register_handlers(application)
    return [
        (group, handler)
        for group, handlers in expanded(application.handlers).items()
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
    assert set(strays) - {("handlers.start", None)} == set()
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
    # The main menu's entries are served by different modules, each claiming its own entry.
    entries = [MenuOpen(item) for item in MenuItem]
    assert [e for e in entries if e.pack() not in claimed] == []
    # Families of the bot (tests define their own, for the codec's tests).
    families = {
        p for p, family in PRESS_FAMILIES.items() if family.__module__.startswith("handlers")
    }
    assert families - claimed - {MenuOpen.prefix} == set()


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


# ---------------------------------------------------------------------- buttons already in chats


def test_legacy_fields_read_exactly_one_shape() -> None:
    assert legacy_fields("rm:y:7", "rm", "y", parse_id) == (7,)
    assert legacy_fields("rm:y", "rm", "y", parse_id) is None
    assert legacy_fields("rm:y:7:8", "rm", "y", parse_id) is None
    assert legacy_fields("rm:n:7", "rm", "y", parse_id) is None
    assert legacy_fields("rm:y:²", "rm", "y", parse_id) is None
    assert legacy_fields(None, "rm") is None


@pytest.mark.parametrize(
    ("parse", "data", "expected"),
    [
        (reminders.legacy_press, "rm:y:5", reminders.StillComing(5, True)),
        (reminders.legacy_press, "rm:n:5", reminders.StillComing(5, False)),
        (reminders.legacy_press, "rm:x:5", None),
        (publish_form.legacy_press, "pub:new:3", publish_form.PublishFor(3)),
        (publish_form.legacy_press, "pub:draft:4", publish_form.ResumeDraft(4)),
        (publish_form.legacy_press, "pub:back:4", None),  # says not which step: refused
        (recruit.legacy_press, "rc:9", recruit.RecruitList(9, 0)),
        (recruit.legacy_press, "rc:9:2", recruit.RecruitList(9, 2)),
        (recruit.legacy_press, "rc:ask:9", recruit.RecruitAsk(9)),
        (recruit.legacy_press, "rc:go:9:12", recruit.RecruitGo(9, 12)),
        (recruit.legacy_press, "inv:no:9", recruit.InviteDecline(9)),
        (recruit.legacy_press, "rc:go:9", None),
        (recruit.legacy_press, "inv:yes:9", None),
        (legacy_register_for, "su:reg:8", RegisterFor(8)),
        (legacy_register_for, "su:reg:8:1", None),
        (legacy_view_press, "act:6", OpenCard(6, "x")),
        (legacy_view_press, "act:6:wk:1", OpenCard(6, "wk-1")),
        (legacy_view_press, "br:c:health:2", OpenList("c-health-2")),
        (legacy_view_press, "act:six", None),
    ],
)
def test_old_buttons_read_as_the_same_presses(
    parse: Callable[[str], Press | None], data: str, expected: Press | None
) -> None:
    assert parse(data) == expected
