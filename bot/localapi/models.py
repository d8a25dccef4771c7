"""What the local Bot API remembers: bots, virtual users, chats, messages, files, events.

These records are the observation surface for tests, the playground and benchmarks, so they
keep more than Telegram would show a bot (raw markup, edit history, deleted messages). Each
record can render itself in the Bot API's JSON shape (``to_api``), which is what bots receive.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSONDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class VirtualUserInfo:
    """A simulated Telegram account. Its private chat with a bot has ``chat id == id``.

    ``phone_number`` is what the user shares when tapping a "share contact" button.
    """

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    phone_number: str | None = None

    def to_api(self) -> JSONDict:
        """A Bot API ``User`` object."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def own_phone_number(self) -> str:
        """The phone shared via a ``request_contact`` button; made up when not given."""
        return self.phone_number or f"+1555{self.id % 10_000_000:07d}"


@dataclass(frozen=True, slots=True)
class BotInfo:
    """A bot registered with the server; ``id`` is the number before ``:`` in the token."""

    id: int
    token: str
    username: str
    first_name: str

    def to_api(self) -> JSONDict:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (from its IHDR chunk); other images report 0 × 0."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


def is_image(data: bytes) -> bool:
    """PNG, JPEG, GIF or WebP, by their magic bytes (Telegram rejects anything else)."""
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


@dataclass(slots=True)
class StoredFile:
    """An uploaded file, kept in memory so the bot can download it again via getFile."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    data: bytes

    @property
    def file_size(self) -> int:
        return len(self.data)

    def to_document(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
        }

    def to_photo_sizes(self) -> list[JSONDict]:
        """A photo as Telegram describes it: one size here (the original)."""
        width, height = image_size(self.data)
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": width,
                "height": height,
                "file_size": self.file_size,
            }
        ]

    def to_file(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """A message's content before an edit replaced it."""

    text: str | None
    plain_text: str | None
    parse_mode: str | None
    entities: list[JSONDict]
    reply_markup: JSONDict | None
    edit_date: int | None
    seq: int


@dataclass(eq=False, slots=True, repr=False)
class StoredMessage:
    """One message in a chat, from a virtual user or from a bot, in its current state.

    ``text`` is what was sent (markup included) and ``plain_text`` what a person sees; for a
    document they hold the caption. ``reply_markup`` is kept whatever its kind, while the Bot
    API JSON (``to_api``) only carries inline keyboards, as on Telegram.
    """

    message_id: int
    chat: ChatRecord
    sender: VirtualUserInfo | BotInfo
    date: int
    seq: int
    text: str | None = None
    plain_text: str | None = None
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: JSONDict | None = None
    reply_to: StoredMessage | None = None
    link_preview_options: JSONDict | None = None
    disable_notification: bool = False
    protect_content: bool = False
    document: StoredFile | None = None
    photo: StoredFile | None = None
    location: JSONDict | None = None
    contact: JSONDict | None = None
    edits: list[MessageVersion] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    last_seq: int = 0

    @property
    def from_bot(self) -> bool:
        return isinstance(self.sender, BotInfo)

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def is_caption(self) -> bool:
        """Whether ``text`` is a caption (documents, photos) rather than a message text."""
        return self.document is not None or self.photo is not None

    @property
    def visible_text(self) -> str:
        """The text or caption as a person sees it ("" when there is none)."""
        return self.plain_text or ""

    @property
    def inline_keyboard(self) -> list[list[JSONDict]] | None:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[JSONDict]] = self.reply_markup["inline_keyboard"]
            return rows
        return None

    @property
    def inline_markup(self) -> JSONDict | None:
        """The reply markup as the Bot API echoes it: inline keyboards only."""
        return self.reply_markup if self.inline_keyboard is not None else None

    def buttons(self) -> list[JSONDict]:
        """All inline keyboard buttons, row by row."""
        return [button for row in self.inline_keyboard or [] for button in row]

    def button_labels(self) -> list[str]:
        return [str(button.get("text", "")) for button in self.buttons()]

    def to_api(self, *, with_reply: bool = True) -> JSONDict:
        """The Bot API ``Message`` object for this message's current state."""
        data: JSONDict = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.protect_content:
            data["has_protected_content"] = True
        if self.document is not None or self.photo is not None:
            if self.document is not None:
                data["document"] = self.document.to_document()
            if self.photo is not None:
                data["photo"] = self.photo.to_photo_sizes()
            if self.plain_text:
                data["caption"] = self.plain_text
                if self.entities:
                    data["caption_entities"] = self.entities
        elif self.plain_text is not None:
            data["text"] = self.plain_text
            if self.entities:
                data["entities"] = self.entities
            if self.link_preview_options:
                data["link_preview_options"] = self.link_preview_options
        if self.location is not None:
            data["location"] = self.location
        if self.contact is not None:
            data["contact"] = self.contact
        if self.inline_markup is not None:
            data["reply_markup"] = self.inline_markup
        return data

    def __repr__(self) -> str:
        return f"<StoredMessage chat {self.chat.id} {self.describe()}>"

    def describe(self) -> str:
        """One line for diagnostics, e.g. ``#5 bot: 'Hello' [Yes | No]``."""
        who = "bot" if self.from_bot else f"user {self.sender.id}"
        if self.document is not None:
            body = f"[document {self.document.file_name!r}] {self.visible_text!r}"
        elif self.photo is not None:
            body = f"[photo {self.photo.file_size} bytes] {self.visible_text!r}"
        elif self.location is not None:
            body = f"[location {self.location['latitude']}, {self.location['longitude']}]"
        elif self.contact is not None:
            body = f"[contact {self.contact['phone_number']}]"
        else:
            body = repr(self.visible_text)
        extras = ""
        if self.inline_keyboard is not None:
            extras += " [" + " | ".join(self.button_labels()) + "]"
        elif self.reply_markup and "keyboard" in self.reply_markup:
            extras += " {reply keyboard}"
        if self.edits:
            extras += f" (edited x{len(self.edits)})"
        if self.deleted:
            extras += " (deleted)"
        return f"#{self.message_id} {who}: {body}{extras}"


@dataclass(eq=False, slots=True, repr=False)
class ChatRecord:
    """A chat as one bot sees it. Private chats have the user's id; groups negative ids."""

    id: int
    type: str
    user: VirtualUserInfo | None = None
    title: str | None = None
    messages: list[StoredMessage] = field(default_factory=list)
    blocked: bool = False
    reply_keyboard: JSONDict | None = None
    menu_button: JSONDict | None = None
    chat_actions: list[str] = field(default_factory=list)
    next_message_id: int = 1
    _by_id: dict[int, StoredMessage] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"<ChatRecord {self.type} {self.id}, {len(self.messages)} messages>"

    def to_api(self) -> JSONDict:
        """A Bot API ``Chat`` object."""
        data: JSONDict = {"id": self.id, "type": self.type}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        if self.title is not None:
            data["title"] = self.title
        return data

    def to_full_api(self) -> JSONDict:
        """A Bot API ``ChatFullInfo`` object (getChat)."""
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def add(self, message: StoredMessage) -> None:
        self.messages.append(message)
        self._by_id[message.message_id] = message

    def message(self, message_id: int) -> StoredMessage | None:
        return self._by_id.get(message_id)

    def bot_messages(self, *, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self.messages if m.from_bot and (include_deleted or not m.deleted)]

    def transcript(self, last: int = 15) -> str:
        lines = [m.describe() for m in self.messages[-last:]]
        return "\n".join(lines) if lines else "(no messages)"


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot answered to a button press (the toast or alert the user sees)."""

    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    seq: int


@dataclass(eq=False, slots=True)
class CallbackQueryRecord:
    id: str
    bot_id: int
    user: VirtualUserInfo
    chat_id: int
    message_id: int
    data: str
    seq: int
    answer: CallbackAnswer | None = None


class EventKind(StrEnum):
    USER_MESSAGE = "user_message"
    BOT_MESSAGE = "bot_message"
    BOT_EDIT = "bot_edit"
    MESSAGE_DELETED = "message_deleted"
    CALLBACK_QUERY = "callback_query"
    CALLBACK_ANSWER = "callback_answer"
    CHAT_ACTION = "chat_action"
    BOT_BLOCKED = "bot_blocked"
    BOT_UNBLOCKED = "bot_unblocked"
    COMMANDS_CHANGED = "commands_changed"
    API_ERROR = "api_error"
    WEBHOOK_ERROR = "webhook_error"


@dataclass(frozen=True, slots=True)
class Event:
    """One observable change, numbered by ``seq`` (1, 2, ...) in the order it happened.

    Tests remember a ``seq`` as a mark and look only at later events ("the next reply").
    """

    seq: int
    kind: EventKind
    bot_id: int
    chat_id: int | None
    message_id: int | None
    detail: str
    time: float = field(default_factory=time.monotonic)

    def describe(self) -> str:
        where = f" chat {self.chat_id}" if self.chat_id is not None else ""
        msg = f" msg #{self.message_id}" if self.message_id is not None else ""
        return f"[{self.seq}] {self.kind.value}{where}{msg}: {self.detail}"


@dataclass(slots=True)
class ServerStats:
    """Counters for benchmarks and assertions; ``reset()`` starts a new measurement."""

    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    too_many_requests: int = 0
    messages_sent: int = 0
    injected_faults: int = 0
    # Webhook requests answered 2xx, and those that failed (each failure is retried).
    webhook_deliveries: int = 0
    webhook_errors: int = 0

    def reset(self) -> None:
        self.requests.clear()
        self.errors.clear()
        self.too_many_requests = 0
        self.messages_sent = 0
        self.injected_faults = 0
        self.webhook_deliveries = 0
        self.webhook_errors = 0


@dataclass(slots=True)
class InjectedFault:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    bot_id: int | None
