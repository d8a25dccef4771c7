"""Handler modules imported when an update first needs them (#14).

Importing every handler module, and with them most of the domain, the services and storage,
took ≈ 0.2 s of every start, before the bot could answer anyone. Now the bot starts with the
few modules every update goes through (the guards, the middleware, ``/start`` and the
fallbacks), and each feature module is imported the first time:

* an update reaches the place where its handlers stand: each module is registered as a
  :class:`DeferredHandlers` in each handler group it uses, at the position its handlers had;
  it loads the module when a command or button data could be the module's (its *claims*, in
  :data:`handlers.MODULES`), then answers exactly as the module's own handlers in that group
  would, in their order. So the first matching handler of a group is the same one as when
  everything was imported at start, and a module's data that none of its handlers takes
  (a forged press) goes on to the next handlers as before;
* a notification of a kind it renders is sent (:class:`DeferredRenderers`);
* typed input reaches one of its flows (:class:`DeferredFlows`);
* one of its jobs runs (:mod:`handlers.jobs`).

``tests/unit/test_lazy_modules.py`` checks every module's claims, flows and renderers against
what the module really registers.

Claims are written as:

========================  ========================================================
``/name``                 the command ``/name``
``prefix``                button data of that family: ``prefix`` or ``prefix:…``
``prefix:value``          exactly that button data (one press of a shared family)
``root.*``                any button data under ``root.``
========================  ========================================================

A claim only decides when a module is imported; which handler runs is then decided by the
module's handlers themselves, as before.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, cast

from telegram import Update
from telegram.ext import Application

from bot.context import AnyHandler, Renderers, Services, ZyContext
from bot.delivery import Renderer
from bot.domain.notifications import NotificationKind
from handlers.flows import Flow


class Recorder:
    """Collects what a module's ``register`` adds, by handler group, in order."""

    def __init__(self) -> None:
        self.by_group: dict[int, list[AnyHandler]] = defaultdict(list)

    def add_handler(self, handler: AnyHandler, group: int = 0) -> None:
        self.by_group[group].append(handler)


def handler_module(name: str) -> ModuleType:
    """``handlers.<name>``, imported if it is not yet."""
    return importlib.import_module(f"handlers.{name}")


@dataclass(eq=False)
class LazyModule:
    """A handler module, what it claims, and its handlers once it is loaded."""

    name: str
    #: Space-separated (see the table in the module's docstring).
    claims: str
    groups: tuple[int, ...] = (0,)
    flows: tuple[str, ...] = ()
    renders: tuple[NotificationKind, ...] = ()
    _commands: frozenset[str] = field(init=False, repr=False)
    _heads: frozenset[str] = field(init=False, repr=False)
    _exact: frozenset[str] = field(init=False, repr=False)
    _roots: tuple[str, ...] = field(init=False, repr=False)
    _handlers: dict[int, list[AnyHandler]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        commands, heads, exact, roots = set(), set(), set(), []
        for claim in self.claims.split():
            if claim.startswith("/"):
                commands.add(claim[1:])
            elif claim.endswith(".*"):
                roots.append(claim[:-1])  # "adm.*" → data starting "adm."
            elif ":" in claim:
                exact.add(claim)
            else:
                heads.add(claim)
        self._commands, self._heads = frozenset(commands), frozenset(heads)
        self._exact, self._roots = frozenset(exact), tuple(roots)

    @property
    def loaded(self) -> bool:
        return self._handlers is not None

    def may_claim(self, update: Update) -> bool:
        """Whether the update could be for this module (a cheap test, before importing it)."""
        query = update.callback_query
        if query is not None:
            data = query.data
            if not isinstance(data, str):
                return False
            return (
                data.partition(":")[0] in self._heads
                or data in self._exact
                or data.startswith(self._roots)
            )
        message = update.effective_message
        text = message.text if message is not None else None
        if not self._commands or not text or not text.startswith("/"):
            return False
        command = text.split(maxsplit=1)[0][1:].partition("@")[0]  # "/" or "/ menu": ""
        return command.lower() in self._commands

    def handlers(self, group: int) -> list[AnyHandler]:
        """The module's handlers of ``group``, in their order (imports it the first time)."""
        if self._handlers is None:
            recorder = Recorder()
            handler_module(self.name).register(recorder)
            unexpected = set(recorder.by_group) - set(self.groups)
            if unexpected:
                raise RuntimeError(f"handlers.{self.name} registers in groups {unexpected}")
            self._handlers = dict(recorder.by_group)
        return self._handlers.get(group, [])


class DeferredHandlers(AnyHandler):
    """Stands where a module's handlers of one group stand, and acts as they do."""

    def __init__(self, module: LazyModule, group: int) -> None:
        super().__init__(self._never_called)
        self.module = module
        self.group = group

    async def _never_called(self, update: object, context: object) -> None:
        raise AssertionError("handle_update hands the update to the module's handler")

    def check_update(self, update: object) -> tuple[AnyHandler, object] | None:
        if not isinstance(update, Update):
            return None
        if not self.module.loaded and not self.module.may_claim(update):
            return None
        for handler in self.module.handlers(self.group):
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    async def handle_update(
        self,
        update: Any,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: Any,
        context: Any,
    ) -> Any:
        handler, check = cast(tuple[AnyHandler, object], check_result)
        return await handler.handle_update(update, application, check, context)


class DeferredRenderers(Mapping[NotificationKind, Renderer[Services]]):
    """The renderers of every notification kind, each module imported when first needed."""

    def __init__(self, modules: tuple[LazyModule, ...]) -> None:
        self._owner: dict[NotificationKind, str] = {}
        for module in modules:
            for kind in module.renders:
                if kind in self._owner:
                    raise RuntimeError(f"two renderers for {kind}: {module.name} and another")
                self._owner[kind] = module.name

    def __getitem__(self, kind: NotificationKind) -> Renderer[Services]:
        table: Renderers = handler_module(self._owner[kind]).RENDERERS
        return table[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._owner

    def __iter__(self) -> Iterator[NotificationKind]:
        return iter(self._owner)

    def __len__(self) -> int:
        return len(self._owner)


class DeferredFlows:
    """Every flow by name, each module imported when one of its flows first gets input."""

    def __init__(self, modules: tuple[LazyModule, ...]) -> None:
        self._owner: dict[str, str] = {}
        self._flows: dict[str, Flow] = {}
        for module in modules:
            for name in module.flows:
                if name in self._owner:
                    raise ValueError(f"two flows are named {name!r}")
                self._owner[name] = module.name

    def __call__(self, name: str) -> Flow | None:
        found = self._flows.get(name)
        if found is None and name in self._owner:
            flows: list[Flow] = handler_module(self._owner[name]).FLOWS
            self._flows.update((flow.name, flow) for flow in flows)
            found = self._flows.get(name)
        return found

    def names(self) -> frozenset[str]:
        return frozenset(self._owner)


def deferred(module: str, function: str) -> Callable[[Update, ZyContext], Awaitable[object]]:
    """A handler function of ``handlers.<module>``, imported when first called."""

    async def call(update: Update, context: ZyContext) -> object:
        target = cast(
            Callable[[Update, ZyContext], Awaitable[object]],
            getattr(handler_module(module), function),
        )
        return await target(update, context)

    call.__name__ = call.__qualname__ = function
    return call


def expanded(handlers: Mapping[int, list[AnyHandler]]) -> dict[int, list[AnyHandler]]:
    """An application's handlers as they act once every module is loaded: each
    :class:`DeferredHandlers` replaced by its module's handlers of that group (for tests that
    look at the whole list, and to load everything at once)."""
    whole: dict[int, list[AnyHandler]] = {}
    for group, standing in handlers.items():
        whole[group] = []
        for handler in standing:
            if isinstance(handler, DeferredHandlers):
                whole[group].extend(handler.module.handlers(group))
            else:
                whole[group].append(handler)
    return whole
