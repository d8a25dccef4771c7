"""One dispatcher for typed input: the flow that owns it (a stored record) gets it.

Typed messages are ambiguous: a name, a date and a cancellation reason are all just text. The
flow that asked last owns the user's next typed input (:mod:`bot.domain.flows`, one row per
user in ``flow_owners``), so this module routes every non-command text, map pin and shared
contact — and ``/cancel`` — to that flow's handler. Buttons are never ambiguous (each family
has its own prefix, :mod:`handlers.callbacks`), so they are routed by prefix; a flow's button
that asks a new question takes the input back with :func:`take`.

Why not PTB's ``ConversationHandler``: it keeps its states in the process, loads them from
persistence once at start-up and never re-reads them, so a second process (or this one after a
crash that outran the persistence flush) would act on stale state. The record is read per
update instead, one indexed lookup, and written in the same moment the question is shown.

```mermaid
flowchart LR
    T[text, pin or contact] --> O{flow_owners row?}
    O -->|flow F| F[F's handler for that input]
    O -->|none| D[defaults: a pin searches nearby, text gets help]
    C[/cancel/] --> O2{flow_owners row?}
    O2 -->|flow F| FC[F's cancel, then release]
    O2 -->|none| N[nothing to cancel]
```
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.context import HandlerSink, ZyContext
from bot.domain.flows import FlowOwner, FlowState

log = logging.getLogger(__name__)

#: Handles one typed input for the flow that owns it.
FlowHandler = Callable[[Update, ZyContext, FlowOwner], Awaitable[object]]
#: Handles input when no flow owns it.
DefaultHandler = Callable[[Update, ZyContext], Awaitable[object]]


@dataclass(frozen=True)
class Flow:
    """A flow that reads typed input: what it does with each kind, and on ``/cancel``.

    A kind of input the flow has no handler for (a pin sent to a name question) goes to
    ``on_other``, which should re-show the question; without it the defaults handle it.
    """

    name: str
    on_text: FlowHandler | None = None
    on_location: FlowHandler | None = None
    on_contact: FlowHandler | None = None
    on_cancel: FlowHandler | None = None
    on_other: FlowHandler | None = None


async def take(
    context: ZyContext, flow: str, waiting_for: str, state: FlowState | None = None
) -> FlowOwner:
    """``flow`` has just asked ``waiting_for``: the user's next typed input is for it."""
    return await context.services.flows.take(context.user.telegram_id, flow, waiting_for, state)


async def release(context: ZyContext, flow: str) -> None:
    """``flow`` is done (finished or cancelled); a newer owner is left alone."""
    await context.services.flows.release(context.user.telegram_id, flow)


async def owned_by(context: ZyContext, flow: str) -> FlowOwner | None:
    """The record if ``flow`` owns the user's input now (a press re-checks before acting)."""
    return await context.services.flows.owned_by(context.user.telegram_id, flow)


#: What a flow's handler returns when the input is not for it after all (an optional question
#: the user ignored): the flow has released the input, and the default handler takes it.
PASS_ON: Any = object()


class FlowDispatcher:
    """``flows`` finds a flow by name (:class:`handlers.lazy.DeferredFlows` imports its module
    when it first gets input)."""

    def __init__(
        self,
        flows: Callable[[str], Flow | None],
        *,
        default_text: DefaultHandler,
        default_location: DefaultHandler,
        default_contact: DefaultHandler,
        nothing_to_cancel: DefaultHandler,
    ) -> None:
        self._flows = flows
        self._default_text = default_text
        self._default_location = default_location
        self._default_contact = default_contact
        self._nothing_to_cancel = nothing_to_cancel

    def flow(self, name: str) -> Flow | None:
        return self._flows(name)

    async def _owner(self, context: ZyContext) -> tuple[FlowOwner, Flow] | None:
        owner = await context.services.flows.owner(context.user.telegram_id)
        if owner is None:
            return None
        flow = self._flows(owner.flow)
        if flow is None:  # a flow that no longer exists (renamed in an upgrade)
            log.warning("user %s: unknown flow %r owns the input", owner.telegram_id, owner.flow)
            await context.services.flows.release(owner.telegram_id, owner.flow)
            return None
        return owner, flow

    async def on_input(self, update: Update, context: ZyContext) -> object:
        message = update.effective_message
        if message is None:
            return None
        found = await self._owner(context)
        if message.location is not None:
            kind, default = "on_location", self._default_location
        elif message.contact is not None:
            kind, default = "on_contact", self._default_contact
        elif message.text is not None:
            kind, default = "on_text", self._default_text
        else:
            kind, default = "on_other", self._default_text
        if found is None:
            return await default(update, context)
        owner, flow = found
        handler: FlowHandler | None = getattr(flow, kind) or flow.on_other
        if handler is None:
            return await default(update, context)
        result = await handler(update, context, owner)
        if result is PASS_ON:
            return await default(update, context)
        return result

    async def on_cancel(self, update: Update, context: ZyContext) -> object:
        found = await self._owner(context)
        if found is None or found[1].on_cancel is None:
            return await self._nothing_to_cancel(update, context)
        owner, flow = found
        assert flow.on_cancel is not None
        result = await flow.on_cancel(update, context, owner)
        await context.services.flows.release(owner.telegram_id, owner.flow)
        return result

    def register(self, application: HandlerSink) -> None:
        """``/cancel`` and every non-command message come here: register it after every handler
        that takes messages by itself, and before the fallbacks for unknown commands."""
        application.add_handler(CommandHandler("cancel", self.on_cancel))
        application.add_handler(MessageHandler(~filters.COMMAND, self.on_input))
