"""Conversations that give way to the one the user started last.

Several flows read typed text: registration, the organization application, ``/new``, a cancel
reason, a broadcast, a message to participants … PTB tries the handlers of a group in order, so
a conversation left half-way (the user pressed another button and started something else)
would go on swallowing the text meant for the newer one. :class:`ExclusiveConversation`
records, in the persisted ``user_data``, which conversation the user last entered or pressed a
button of; for typed messages (text, pins, contacts, commands) a conversation that is not that
one steps aside (its state handlers and fallbacks do not match). Button presses are never
ambiguous (each module owns its callback prefix), so a press on an older conversation's message
still works and makes that conversation the one that reads the next typed answer. A
conversation's state is kept while it steps aside.

```mermaid
flowchart LR
    A[in conversation A] -->|entry point of B| B[in B: A steps aside for typed input]
    B -->|entry point or button of A| A2[A reads typed input again: B steps aside]
```
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler
from telegram.warnings import PTBUserWarning

__all__ = ["ACTIVE_FLOW_KEY", "ExclusiveConversation", "bind_conversations"]

#: Key in ``user_data`` naming the conversation the user entered last.
ACTIVE_FLOW_KEY = "active_flow"


class ExclusiveConversation(ConversationHandler[Any]):
    """A :class:`ConversationHandler` (which must have a ``name``) that yields to newer ones.

    :func:`bind_conversations` gives it the application's ``user_data`` once every handler is
    registered (``check_update`` is not passed the application).
    """

    def __init__(self, **kwargs: Any) -> None:
        # The house defaults: state survives restarts, entry points restart a conversation, and
        # state is per user and chat rather than per message (PTB warns about the latter; for
        # mixed text-and-button forms it is exactly what is wanted).
        kwargs.setdefault("persistent", True)
        kwargs.setdefault("allow_reentry", True)
        kwargs.setdefault("per_message", False)
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*per_message=False", category=PTBUserWarning
            )
            super().__init__(**kwargs)
        if not self.name:
            raise ValueError("an exclusive conversation needs a name")
        self._user_data: Mapping[int, Any] = {}

    def bind(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._user_data = application.user_data

    def check_update(self, update: object) -> Any:
        result = super().check_update(update)
        if result is None or not isinstance(update, Update) or update.effective_user is None:
            return result
        _state, _key, handler, _check = result
        if handler in self.entry_points or update.callback_query is not None:
            return result
        data = self._user_data.get(update.effective_user.id) or {}
        owner = data.get(ACTIVE_FLOW_KEY)
        if owner is not None and owner != self.name:
            return None  # the user moved on to another conversation
        return result

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: Any,
        context: Any,
    ) -> object:
        _state, key, handler, _check = check_result
        pressed = isinstance(update, Update) and update.callback_query is not None
        result = await super().handle_update(update, application, check_result, context)
        # Only a conversation that is still waiting for an answer takes the typed input over:
        # an entry that just shows a screen and ends (an organization home, say) leaves a form
        # the user left half-way in charge.
        still_open = self._conversations.get(key) is not None
        if (
            (handler in self.entry_points or pressed)
            and still_open
            and context.user_data is not None
        ):
            context.user_data[ACTIVE_FLOW_KEY] = self.name
        return result


def bind_conversations(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Give every registered :class:`ExclusiveConversation` the application's user data."""
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ExclusiveConversation):
                handler.bind(application)
