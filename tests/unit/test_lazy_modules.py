"""The table of handler modules (``handlers.MODULES``) against what each module registers.

A feature module is imported when an update first needs it (:mod:`handlers.lazy`), decided by
its claims in the table; its flows and renderers are found by the table too. A claim missing
from the table would leave a command or button unanswered until something else loaded the
module, so every command and button data a module's handlers take must be claimed, and every
claim must be one a handler takes. Flows, renderers and handler groups must match exactly.
"""

from __future__ import annotations

import inspect
import itertools
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.ext import CommandHandler

import handlers
from handlers import MODULES
from handlers.jobs import JOBS, function_of
from handlers.lazy import DeferredFlows, DeferredHandlers, LazyModule, Recorder, handler_module
from handlers.press_table import PressQueryHandler

#: Registered at start in their fixed places (guards, middleware, front door, fallbacks).
EAGER = {"middleware", "chat_types", "chat_member", "start", "errors"}


def _registered(module: LazyModule) -> list[tuple[int, Any]]:
    recorder = Recorder()
    loaded = handler_module(module.name)
    if hasattr(loaded, "register"):
        loaded.register(recorder)
    return [(group, handler) for group, added in recorder.by_group.items() for handler in added]


def _press(data: str) -> Update:
    user = User(1, "A", is_bot=False)
    return Update(1, callback_query=CallbackQuery("1", user, "chat", data=data))


class _Bot:
    username = "zhiyuan_bot"


def _typed(text: str) -> Update:
    user = User(1, "A", is_bot=False)
    command = [MessageEntity("bot_command", 0, len(text.split()[0]))] if text[:1] == "/" else []
    message = Message(1, None, Chat(1, "private"), from_user=user, text=text, entities=command)  # type: ignore[arg-type]
    # Command handlers read the bot's username (a command may name the bot: /menu@name).
    message.set_bot(_Bot())  # type: ignore[arg-type]
    return Update(1, message=message)


def _legacy_samples(pattern: str) -> list[str]:
    """Data matching an old-format pattern (``^mg:(list|a):`` → ``mg:list:1``, ``mg:a:1``)."""
    parts = re.split(r"\(([^)]*)\)", pattern.removeprefix("^"))
    choices = [part.split("|") if n % 2 else [part] for n, part in enumerate(parts)]
    samples = ["".join(chosen) + "1" for chosen in itertools.product(*choices)]
    assert all(re.match(pattern, sample) for sample in samples), pattern
    return samples


def _samples(handler: Any) -> list[Update]:
    """Updates the handler takes, one per command and a few per button claim."""
    if isinstance(handler, CommandHandler):
        return [_typed(f"/{command}") for command in sorted(handler.commands)]
    assert isinstance(handler, PressQueryHandler), f"{handler!r} is neither command nor press"
    claims = handler.claims
    if claims.startswith("legacy "):
        data = _legacy_samples(claims.removeprefix("legacy "))
    elif claims.endswith(".*"):
        data = [claims[:-1] + "anything"]
    elif ":" in claims:
        data = [claims]
    else:
        data = [claims, claims + ":1"]
    return [_press(one) for one in data]


def _takes(handler: Any, update: Update) -> bool:
    check = handler.check_update(update)
    return check is not None and check is not False


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_a_module_claims_what_its_handlers_take(module: LazyModule) -> None:
    registered = _registered(module)
    assert {group for group, _ in registered} == set(module.groups)
    for _, handler in registered:
        for update in _samples(handler):
            assert _takes(handler, update), "the sample is one the handler takes"
            assert module.may_claim(update), f"{module.name} does not claim {update}"


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_every_claim_of_a_module_is_taken_by_one_of_its_handlers(module: LazyModule) -> None:
    samples = [update for _, handler in _registered(module) for update in _samples(handler)]
    for claim in module.claims.split():
        alone = LazyModule(module.name, claim)
        assert any(alone.may_claim(update) for update in samples), f"{claim!r} is not needed"


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_a_modules_flows_and_renderers_are_in_the_table(module: LazyModule) -> None:
    loaded = handler_module(module.name)
    assert sorted(flow.name for flow in getattr(loaded, "FLOWS", [])) == sorted(module.flows)
    assert sorted(getattr(loaded, "RENDERERS", {})) == sorted(module.renders)


def test_every_handler_module_is_in_the_table_or_registered_at_start() -> None:
    listed = {module.name for module in MODULES}
    assert len(listed) == len(MODULES)
    for info in pkgutil.iter_modules(handlers.__path__):
        loaded = handler_module(info.name)
        wires = any(hasattr(loaded, name) for name in ("register", "FLOWS", "RENDERERS"))
        if wires and info.name not in {"flows", "lazy"}:
            assert (info.name in listed) != (info.name in EAGER), info.name


def test_every_job_runs_a_coroutine_function_of_its_module() -> None:
    assert len({job.name for job in JOBS}) == len(JOBS)
    for job in JOBS:
        assert inspect.iscoroutinefunction(function_of(job)), job.target


def test_data_under_a_module_that_none_of_its_handlers_takes_goes_on() -> None:
    """A forged press with a module's prefix loads the module, which takes nothing: the next
    handlers of the group get it, as when every module was imported at start."""
    [signup] = [module for module in MODULES if module.name == "signup"]
    standing = DeferredHandlers(signup, 0)
    assert standing.check_update(_press("su.nonexistent:1")) is None
    assert standing.check_update(_press("su.join:x")) is not None  # malformed: its own answer
    assert standing.check_update(_press("br.view:fy")) is None
    assert standing.check_update(_typed("/menu")) is None


def test_a_flow_is_found_by_name_from_the_table() -> None:
    flows = DeferredFlows(MODULES)
    found = flows("registration")
    assert found is not None and found.name == "registration"
    assert flows("renamed in an upgrade") is None
    assert flows.names() == {name for module in MODULES for name in module.flows}


def test_building_the_bot_imports_no_feature_module(tmp_path: Path) -> None:
    """``zhiyuan run`` builds the application with no feature module imported (#14)."""
    probe = (
        "import sys, asyncio, bot.cli, bot.runtime\n"
        "from bot.config import Settings\n"
        "from bot.app import build_application\n"
        "from storage.backends import open_database\n"
        "from storage.migrate import migrate\n"
        "async def main():\n"
        f"    db = await open_database({str(tmp_path / 'bot.sqlite3')!r})\n"
        "    await migrate(db)\n"
        "    build_application(Settings(bot_token='1:x'), db)\n"
        "    await db.close()\n"
        "asyncio.run(main())\n"
        "names = " + repr(sorted(module.name for module in MODULES)) + "\n"
        "print(' '.join(n for n in names if 'handlers.' + n in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []


def test_a_command_loads_its_module_when_it_arrives() -> None:
    probe = (
        "import sys\n"
        "from telegram import Chat, Message, MessageEntity, Update, User\n"
        "from handlers import MODULES\n"
        "from handlers.lazy import DeferredHandlers\n"
        "[browse] = [m for m in MODULES if m.name == 'browse']\n"
        "standing = DeferredHandlers(browse, 0)\n"
        "user, chat = User(1, 'A', is_bot=False), Chat(1, 'private')\n"
        "def typed(text):\n"
        "    command = [MessageEntity('bot_command', 0, len(text))]\n"
        "    message = Message(1, None, chat, from_user=user, text=text, entities=command)\n"
        "    message.set_bot(type('Bot', (), {'username': 'zhiyuan_bot'})())\n"
        "    return Update(1, message=message)\n"
        "def loaded():\n"
        "    return 'handlers.browse' in sys.modules\n"
        "print(standing.check_update(typed('/my')) is None, loaded())\n"
        "print(standing.check_update(typed('/menu')) is not None, loaded())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "False", "True", "True"]


@pytest.mark.parametrize("text", ["/", "/ menu", "/@zhiyuan_bot", "menu", "/MENU@zhiyuan_bot x"])
def test_a_command_is_read_as_a_command_handler_reads_it(text: str) -> None:
    """A lone "/" once raised here (found by the fuzz test): it claims nothing."""
    [browse] = [module for module in MODULES if module.name == "browse"]
    assert browse.may_claim(_typed(text)) is (text == "/MENU@zhiyuan_bot x")
