"""Virtual users: drive a bot the way a person would, and wait for what it answers.

A :class:`VirtualUser` keeps a *mark*, the server's event sequence number before its latest
action. "The next reply" means the first bot message or edit in this chat after the mark, so
tests read as conversations and never sleep::

    alice = VirtualUser(server, bot, VirtualUserInfo(1001, "Alice"))
    await alice.send("/start")
    menu = await alice.wait_for_text("Welcome")
    await alice.press("Find events")
    listing = await alice.next_reply()
"""

from __future__ import annotations

from bot.localapi.errors import LocalApiUsageError
from bot.localapi.models import (
    BotInfo,
    CallbackAnswer,
    Event,
    EventKind,
    JSONDict,
    StoredMessage,
    VirtualUserInfo,
)
from bot.localapi.state import ApiState, BotRef

_REPLY_KINDS = (EventKind.BOT_MESSAGE, EventKind.BOT_EDIT)

# Where a "share location" reply-keyboard button puts the user unless told otherwise (Shanghai).
DEFAULT_LOCATION = (31.2304, 121.4737)


class VirtualUser:
    """One simulated person in one chat (their private chat unless ``chat_id`` is a group)."""

    def __init__(
        self,
        server: ApiState,
        bot: BotRef,
        info: VirtualUserInfo,
        *,
        chat_id: int | None = None,
        location: tuple[float, float] = DEFAULT_LOCATION,
    ) -> None:
        self.server = server
        self.bot: BotInfo = server.bot_state(bot).info
        self.info = info
        self.chat_id = chat_id if chat_id is not None else info.id
        self.location = location
        self.mark = server.seq
        self.last_query_id: str | None = None

    @property
    def id(self) -> int:
        return self.info.id

    def __repr__(self) -> str:
        return f"VirtualUser({self.info.first_name!r}, id={self.id}, chat={self.chat_id})"

    def _group(self) -> int | None:
        return self.chat_id if self.chat_id != self.info.id else None

    def _act(self) -> None:
        """Set the mark before an action: replies are looked for after this point."""
        self.mark = self.server.seq

    # ---------------------------------------------------------------------------- actions

    async def send(
        self, text: str, *, reply_to: StoredMessage | int | None = None
    ) -> StoredMessage:
        """Type and send ``text``; returns the user's own message."""
        self._act()
        reply_id = reply_to.message_id if isinstance(reply_to, StoredMessage) else reply_to
        return self.server.user_send_text(
            self.bot, self.info, text, chat_id=self._group(), reply_to_message_id=reply_id
        )

    async def start(self, payload: str | None = None) -> StoredMessage:
        """Send ``/start`` (with a deep-link payload if given), as the Start button does."""
        return await self.send(f"/start {payload}" if payload else "/start")

    async def press(self, label: str, *, message: StoredMessage | int | None = None) -> str:
        """Press the inline button labelled ``label``; returns the callback query id.

        Without ``message``, the button is looked for on the latest bot message in the chat
        that has it. Raises :class:`LocalApiUsageError` listing the buttons there are otherwise.
        """
        target = self._find_inline(label, message)
        button = next(b for b in target.buttons() if b.get("text") == label)
        data = button.get("callback_data")
        if data is None:
            kinds = ", ".join(sorted(k for k in button if k != "text"))
            raise LocalApiUsageError(
                f"button {label!r} on message #{target.message_id} is not a callback button "
                f"({kinds}); a real client would not send a callback query"
            )
        return await self.press_data(target.message_id, str(data))

    async def press_data(self, message_id: int, data: str) -> str:
        """Send a callback query with arbitrary ``data`` for ``message_id`` (forged presses)."""
        self._act()
        self.last_query_id = self.server.user_press_button(
            self.bot, self.info, message_id, data, chat_id=self._group()
        )
        return self.last_query_id

    async def tap_reply_button(self, label: str) -> StoredMessage:
        """Tap a button of the reply keyboard the bot currently shows in this chat.

        A plain button sends its text; ``request_contact`` shares this user's own contact and
        ``request_location`` their location, as Telegram clients do.
        """
        chat = self.server.chat(self.bot, self.chat_id)
        keyboard = chat.reply_keyboard
        buttons: list[str | JSONDict] = (
            [b for row in keyboard["keyboard"] for b in row] if keyboard else []
        )
        for button in buttons:
            text = button if isinstance(button, str) else str(button.get("text", ""))
            if text != label:
                continue
            if isinstance(button, dict) and button.get("request_contact"):
                return await self.share_contact(self.info.own_phone_number, user_id=self.id)
            if isinstance(button, dict) and button.get("request_location"):
                return await self.share_location(*self.location)
            if isinstance(button, dict):
                special = {"request_users", "request_chat", "request_poll", "web_app"} & set(button)
                if special:
                    raise LocalApiUsageError(
                        f"reply button {label!r} uses {sorted(special)}, not simulated"
                    )
            return await self.send(text)
        labels = [b if isinstance(b, str) else str(b.get("text", "")) for b in buttons]
        shown = f"the keyboard has {labels}" if keyboard else "no reply keyboard is shown"
        raise LocalApiUsageError(
            f"{self!r}: no reply keyboard button {label!r}; {shown}.\n"
            f"Chat history:\n{chat.transcript()}"
        )

    async def share_contact(
        self, phone: str, user_id: int | None = None, *, first_name: str | None = None
    ) -> StoredMessage:
        self._act()
        return self.server.user_share_contact(
            self.bot,
            self.info,
            phone,
            first_name or self.info.first_name,
            user_id,
            last_name=self.info.last_name if first_name is None else None,
            chat_id=self._group(),
        )

    async def share_location(self, latitude: float, longitude: float) -> StoredMessage:
        self._act()
        return self.server.user_share_location(
            self.bot, self.info, latitude, longitude, chat_id=self._group()
        )

    async def send_document(
        self, data: bytes, file_name: str, mime_type: str | None = None, caption: str | None = None
    ) -> StoredMessage:
        self._act()
        return self.server.user_send_document(
            self.bot, self.info, data, file_name, mime_type, caption, chat_id=self._group()
        )

    async def block(self) -> None:
        self._act()
        self.server.user_blocks_bot(self.bot, self.info)

    async def unblock(self) -> None:
        self._act()
        self.server.user_unblocks_bot(self.bot, self.info)

    # ---------------------------------------------------------------------------- observation

    def bot_messages(self, *, include_deleted: bool = False) -> list[StoredMessage]:
        """The bot's messages in this chat, oldest first, in their current state."""
        chat = self.server.find_chat(self.bot, self.chat_id)
        return chat.bot_messages(include_deleted=include_deleted) if chat else []

    def last_bot_message(self) -> StoredMessage | None:
        messages = self.bot_messages()
        return messages[-1] if messages else None

    def history(self) -> list[StoredMessage]:
        chat = self.server.find_chat(self.bot, self.chat_id)
        return list(chat.messages) if chat else []

    def _replies_since_mark(self) -> list[Event]:
        return [
            event
            for event in self.server.events_since(self.mark)
            if event.kind in _REPLY_KINDS
            and event.bot_id == self.bot.id
            and event.chat_id == self.chat_id
        ]

    async def next_reply(self, timeout: float = 5.0) -> StoredMessage:  # noqa: ASYNC109
        """The first bot message (or edit) in this chat after the mark; moves the mark past it.

        Calling it again returns the reply after that one, so a multi-message answer can be
        read message by message.
        """

        def first() -> Event | None:
            replies = self._replies_since_mark()
            return replies[0] if replies else None

        event = await self.server.wait_for(
            first,
            timeout,
            description=f"a bot message in chat {self.chat_id} after event #{self.mark}",
            bot=self.bot,
            chat_id=self.chat_id,
            only_this_chat=True,
        )
        self.mark = event.seq
        assert event.message_id is not None
        return self.server.message(self.bot, self.chat_id, event.message_id)

    async def wait_for_text(
        self,
        substring: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        anywhere: bool = False,
    ) -> StoredMessage:
        """A bot message in this chat, sent or edited after the mark, whose visible text
        contains ``substring``; moves the mark past it. ``anywhere`` also searches older
        messages (current state, not deleted).
        """

        def found() -> tuple[int, StoredMessage] | None:
            for event in self._replies_since_mark():
                assert event.message_id is not None
                message = self.server.message(self.bot, self.chat_id, event.message_id)
                if not message.deleted and substring in message.visible_text:
                    return event.seq, message
            if anywhere:
                for message in reversed(self.bot_messages()):
                    if substring in message.visible_text:
                        return self.mark, message
            return None

        seq, message = await self.server.wait_for(
            found,
            timeout,
            description=f"a bot message containing {substring!r} in chat {self.chat_id} "
            f"after event #{self.mark}",
            bot=self.bot,
            chat_id=self.chat_id,
            only_this_chat=True,
        )
        self.mark = seq
        return message

    async def callback_answer(
        self,
        query_id: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery to ``query_id`` (default: the last press)."""
        query_id = query_id or self.last_query_id
        if query_id is None:
            raise LocalApiUsageError(f"{self!r} has not pressed any button yet")
        query = self.server.callback_query(query_id)
        return await self.server.wait_for(
            lambda: query.answer,
            timeout,
            description=f"the bot to answer callback query {query_id} ({query.data!r})",
            bot=self.bot,
            chat_id=self.chat_id,
        )

    def _find_inline(self, label: str, message: StoredMessage | int | None) -> StoredMessage:
        if message is not None:
            message_id = message.message_id if isinstance(message, StoredMessage) else message
            candidates = [self.server.message(self.bot, self.chat_id, message_id)]
        else:
            candidates = list(reversed(self.bot_messages()))
        for candidate in candidates:
            if not candidate.deleted and label in candidate.button_labels():
                return candidate
        available = [
            f"#{m.message_id}: {m.button_labels()}" for m in candidates if m.inline_keyboard
        ]
        where = f"message #{candidates[0].message_id}" if message is not None else "any message"
        raise LocalApiUsageError(
            f"{self!r}: no inline button {label!r} on {where}. Available buttons: "
            + ("; ".join(available) if available else "none")
        )
