"""The Bot API methods the local server implements, answering as Telegram would.

Each method validates like Telegram (same error codes and descriptions), changes the
:class:`~bot.localapi.state.ApiState` and returns the ``result`` in the Bot API's JSON shape.
Methods not listed here answer 404 so that a gap shows up instead of passing silently.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.localapi import errors
from bot.localapi.errors import ApiError, EntityParseError
from bot.localapi.formatting import FormattedText, parse_text
from bot.localapi.models import (
    CallbackAnswer,
    ChatRecord,
    EventKind,
    StoredFile,
    StoredMessage,
    is_image,
)
from bot.localapi.params import Params, UploadedFile
from bot.localapi.state import ApiState, BotState, scope_key

logger = logging.getLogger("bot.localapi")

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call: who made it and with which parameters."""

    state: ApiState
    bot: BotState
    params: Params


Handler = Callable[[Call], Awaitable[Any]]

# Lower-cased method name -> (canonical name, implementation); Telegram ignores the case.
METHODS: dict[str, tuple[str, Handler]] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


# ------------------------------------------------------------------------------ validation


def _formatted(text: str, parse_mode: str | None, entities: Any) -> FormattedText:
    try:
        return parse_text(text, parse_mode, entities)
    except EntityParseError as exc:
        raise ApiError(400, errors.CANT_PARSE_ENTITIES + str(exc)) from None
    except ValueError:
        raise ApiError.bad_request("unsupported parse_mode") from None


def _message_text(p: Params) -> tuple[str, FormattedText]:
    text = p.get_str("text") or ""
    formatted = _formatted(text, p.get_str("parse_mode"), p.get_json("entities"))
    if not formatted.text:
        raise ApiError(400, errors.TEXT_EMPTY)
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise ApiError(400, errors.TEXT_TOO_LONG)
    return text, formatted


def _caption(p: Params) -> tuple[str | None, FormattedText]:
    caption = p.get_str("caption")
    formatted = _formatted(caption or "", p.get_str("parse_mode"), p.get_json("caption_entities"))
    if len(formatted.text) > MAX_CAPTION_LENGTH:
        raise ApiError(400, errors.CAPTION_TOO_LONG)
    return caption, formatted


_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _rows(markup: JSONDict, key: str) -> list[list[Any]]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, errors.BAD_REPLY_MARKUP)
    return rows


def _check_inline_keyboard(markup: JSONDict) -> None:
    for row in _rows(markup, "inline_keyboard"):
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(400, errors.BAD_REPLY_MARKUP)
            if not any(button.get(action) is not None for action in _INLINE_ACTIONS):
                raise ApiError(400, errors.TEXT_BUTTONS_UNALLOWED)
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, errors.BUTTON_DATA_INVALID)


def _reply_markup(p: Params, *, inline_only: bool = False) -> JSONDict | None:
    markup = p.get_json("reply_markup", errors.BAD_REPLY_MARKUP[len("Bad Request: ") :])
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError.bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup)
    elif inline_only:
        raise ApiError.bad_request("inline keyboard expected")
    elif "keyboard" in markup:
        for row in _rows(markup, "keyboard"):
            for button in row:
                if not isinstance(button, str) and not (
                    isinstance(button, dict) and isinstance(button.get("text"), str)
                ):
                    raise ApiError(400, errors.BAD_REPLY_MARKUP)
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise ApiError(400, errors.BAD_REPLY_MARKUP)
    return markup


def _reply_to(chat: ChatRecord, p: Params) -> StoredMessage | None:
    parameters = p.get_json("reply_parameters")
    allow_missing = p.get_bool("allow_sending_without_reply")
    message_id: Any = None
    if isinstance(parameters, dict):
        message_id = parameters.get("message_id")
        allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
    elif "reply_to_message_id" in p:
        message_id = p.get_int("reply_to_message_id")
    if message_id is None:
        return None
    try:
        target = chat.message(int(message_id))
    except (TypeError, ValueError):
        target = None
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise ApiError(400, errors.MESSAGE_TO_REPLY_NOT_FOUND)
    return target


def _link_preview_options(p: Params) -> JSONDict | None:
    options = p.get_json("link_preview_options")
    if isinstance(options, dict):
        return options
    if p.get_bool("disable_web_page_preview"):
        return {"is_disabled": True}
    return None


def _chat(call: Call, *, writable: bool = True) -> ChatRecord:
    """The chat named by ``chat_id``: 400 if it never talked to the bot, 403 if blocked."""
    chat = call.bot.chats.get(call.params.chat_id())
    if chat is None:
        raise ApiError(400, errors.CHAT_NOT_FOUND)
    if writable and chat.blocked:
        raise ApiError(403, errors.BOT_BLOCKED)
    return chat


def _message_to_edit(call: Call) -> StoredMessage:
    if "inline_message_id" in call.params:
        raise ApiError(400, errors.MESSAGE_TO_EDIT_NOT_FOUND)  # no inline mode locally
    chat = _chat(call)
    message_id = call.params.get_int("message_id")
    message = chat.message(message_id) if message_id is not None else None
    if message is None or message.deleted:
        raise ApiError(400, errors.MESSAGE_TO_EDIT_NOT_FOUND)
    if not message.from_bot or message.sender.id != call.bot.info.id:
        raise ApiError(400, errors.MESSAGE_CANT_BE_EDITED)
    return message


def _check_modified(message: StoredMessage, formatted: FormattedText, markup: Any) -> None:
    if (
        (formatted.text or None) == (message.plain_text or None)
        and formatted.entities == message.entities
        and markup == message.inline_markup
    ):
        raise ApiError(400, errors.MESSAGE_NOT_MODIFIED)


# ------------------------------------------------------------------------------ bot & updates


@method("getMe")
async def get_me(call: Call) -> JSONDict:
    return {
        **call.bot.info.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut")
async def log_out(call: Call) -> bool:
    logger.info("@%s logged out", call.bot.info.username)
    return True


@method("close")
async def close(call: Call) -> bool:
    logger.info("@%s closed", call.bot.info.username)
    return True


@method("getUpdates")
async def get_updates(call: Call) -> list[JSONDict]:
    """Long polling: answers at once if updates are pending, else when one arrives or timeout.

    A newer getUpdates call ends a waiting older one with 409, as Telegram does when two
    instances of a bot poll at once; so does setWebhook, and while a webhook is set getUpdates
    is refused with 409.
    """
    state, bot, p = call.state, call.bot, call.params
    if bot.webhook is not None:
        raise ApiError(409, errors.WEBHOOK_ACTIVE)
    limit = min(max(p.get_int("limit") or 100, 1), 100)
    timeout = max(p.get_float("timeout") or 0.0, 0.0)
    allowed = p.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = frozenset(str(kind) for kind in allowed) or None
    state.confirm_updates(bot, p.get_int("offset") or 0)
    bot.poll_generation += 1
    generation = bot.poll_generation
    state.notify()

    def outcome() -> str | None:
        if bot.poll_generation != generation:
            return "superseded"
        if bot.webhook is not None:
            return "webhook set"
        if state.closing:
            return "closing"
        return "ready" if bot.updates else None

    result = await state.wait_until(outcome, timeout) if timeout > 0 else outcome()
    if result == "superseded":
        raise ApiError(409, errors.GET_UPDATES_TERMINATED)
    if result == "webhook set":
        raise ApiError(409, errors.TERMINATED_BY_SET_WEBHOOK)
    return bot.updates[:limit]


# Telegram delivers webhooks only to these ports; loopback URLs (local use) may use any.
_WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SECRET_TOKEN_LENGTH = 256
DEFAULT_MAX_CONNECTIONS = 40


def _is_loopback(host: str) -> bool:
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook_url(url: str) -> str:
    """The URL as Telegram accepts it, except that http:// to this machine is allowed too.

    Telegram requires HTTPS on port 80, 88, 443 or 8443; a local server cannot present a
    certificate Telegram would trust nor would it reach one, so loopback hosts (127.0.0.0/8,
    ::1, localhost) are accepted over http or https on any port, for tests and local demos.
    """
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError:
        raise ApiError.bad_request("invalid webhook URL specified") from None
    host = parts.hostname
    scheme = parts.scheme.lower()
    if not host or scheme not in ("http", "https"):
        raise ApiError.bad_request("invalid webhook URL specified")
    if _is_loopback(host):
        return url
    if scheme != "https":
        raise ApiError(400, errors.WEBHOOK_HTTPS_REQUIRED)
    if port is not None and port not in _WEBHOOK_PORTS:
        raise ApiError(400, errors.WEBHOOK_BAD_PORT)
    return url


def _secret_token(p: Params) -> str | None:
    token = p.get_str("secret_token") or None
    if token is None:
        return None
    if len(token) > MAX_SECRET_TOKEN_LENGTH:
        raise ApiError(400, errors.SECRET_TOKEN_TOO_LONG)
    if not _SECRET_TOKEN.match(token):
        raise ApiError(400, errors.SECRET_TOKEN_UNALLOWED)
    return token


@method("setWebhook")
async def set_webhook(call: Call) -> bool:
    """Deliver updates by POSTing them to ``url`` (see :mod:`bot.localapi.webhook`).

    Validated first, applied only when everything is valid. ``max_connections`` is clamped to
    1-100 as Telegram does; ``ip_address`` is shown by getWebhookInfo but not connected to, and an
    uploaded ``certificate`` only sets ``has_custom_certificate``. An empty ``url`` removes the
    webhook, like deleteWebhook.
    """
    state, bot, p = call.state, call.bot, call.params
    drop = p.get_bool("drop_pending_updates")
    url = (p.get_str("url") or "").strip()
    if not url:
        await state.delete_webhook(bot, drop_pending=drop)
        return True
    url = _webhook_url(url)
    secret_token = _secret_token(p)
    max_connections = p.get_int("max_connections") or DEFAULT_MAX_CONNECTIONS
    allowed = p.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = frozenset(str(kind) for kind in allowed) or None
    webhook: JSONDict = {
        "url": url,
        "secret_token": secret_token,
        "max_connections": min(max(max_connections, 1), 100),
        "ip_address": p.get_str("ip_address") or None,
        "has_custom_certificate": isinstance(p.file("certificate"), UploadedFile),
    }
    state.set_webhook(bot, webhook, drop_pending=drop)
    logger.info("@%s set its webhook to %s", bot.info.username, url)
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    drop = call.params.get_bool("drop_pending_updates")
    await call.state.delete_webhook(call.bot, drop_pending=drop)
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> JSONDict:
    bot = call.bot
    webhook = bot.webhook
    info: JSONDict = {
        "url": webhook["url"] if webhook else "",
        "has_custom_certificate": bool(webhook and webhook["has_custom_certificate"]),
        "pending_update_count": len(bot.updates),
    }
    if webhook:
        if webhook["ip_address"]:
            info["ip_address"] = webhook["ip_address"]
        if bot.webhook_last_error_date is not None:
            info["last_error_date"] = bot.webhook_last_error_date
            info["last_error_message"] = bot.webhook_last_error_message
        info["max_connections"] = webhook["max_connections"]
    if bot.allowed_updates is not None:
        info["allowed_updates"] = sorted(bot.allowed_updates)
    return info


# ------------------------------------------------------------------------------ commands & menu

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def _commands_key(p: Params) -> tuple[str, str]:
    return scope_key(p.get_json("scope")), p.get_str("language_code") or ""


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    commands = call.params.get_json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError.bad_request("can't parse commands JSON object")
    cleaned: list[JSONDict] = []
    for command in commands:
        if not isinstance(command, dict):
            raise ApiError.bad_request("can't parse BotCommand JSON object")
        name = str(command.get("command", "")).lstrip("/")
        description = str(command.get("description", "")).strip()
        if not _COMMAND_NAME.match(name):
            raise ApiError(400, errors.BOT_COMMAND_INVALID)
        if not 1 <= len(description) <= 256:
            raise ApiError(400, errors.BOT_COMMAND_DESCRIPTION_INVALID)
        cleaned.append({"command": name, "description": description})
    key = _commands_key(call.params)
    if cleaned:
        call.bot.commands[key] = cleaned
    else:
        call.bot.commands.pop(key, None)
    call.state.record(
        EventKind.COMMANDS_CHANGED,
        call.bot.info.id,
        detail=f"{len(cleaned)} commands for scope {key[0]} language {key[1]!r}",
    )
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[JSONDict]:
    return list(call.bot.commands.get(_commands_key(call.params), []))


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    key = _commands_key(call.params)
    call.bot.commands.pop(key, None)
    call.state.record(
        EventKind.COMMANDS_CHANGED,
        call.bot.info.id,
        detail=f"commands deleted for scope {key[0]} language {key[1]!r}",
    )
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> bool:
    button = call.params.get_json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
        raise ApiError.bad_request("can't parse menu button JSON object")
    if "chat_id" in call.params:
        _chat(call, writable=False).menu_button = button
    else:
        call.bot.default_menu_button = button
    call.state.notify()
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> JSONDict:
    button = None
    if "chat_id" in call.params:
        button = _chat(call, writable=False).menu_button
    button = button or call.bot.default_menu_button
    if button is None or button.get("type") == "default":
        return {"type": "commands"}
    return button


# ------------------------------------------------------------------------------ messages


def _send(call: Call, chat: ChatRecord, **content: Any) -> JSONDict:
    """What every send method shares after parsing its own content: the keyboard, the quoted
    message, the flood check (after validation, as Telegram counts only accepted messages),
    storing the message and answering with it."""
    p = call.params
    markup = _reply_markup(p)
    reply_to = _reply_to(chat, p)
    call.state.check_flood(call.bot, chat)
    message = call.state.bot_message(
        call.bot,
        chat,
        reply_markup=markup,
        reply_to=reply_to,
        disable_notification=p.get_bool("disable_notification"),
        protect_content=p.get_bool("protect_content"),
        **content,
    )
    return message.to_api()


@method("sendMessage")
async def send_message(call: Call) -> JSONDict:
    p = call.params
    chat = _chat(call)
    text, formatted = _message_text(p)
    return _send(
        call,
        chat,
        text=text,
        plain_text=formatted.text,
        parse_mode=p.get_str("parse_mode") or None,
        entities=formatted.entities,
        link_preview_options=_link_preview_options(p),
    )


def _input_file(call: Call, given: UploadedFile | str | None, kind: str) -> StoredFile:
    """An uploaded file (stored now) or one sent before, by file_id; URLs are not fetched."""
    if isinstance(given, UploadedFile):
        if not given.data:
            raise ApiError(400, errors.FILE_EMPTY)
        if kind == "photo" and not is_image(given.data):
            raise ApiError(400, errors.IMAGE_PROCESS_FAILED)
        content_type = given.content_type
        if content_type == "application/octet-stream":
            content_type = ""
        return call.state.store_file(
            call.bot, given.data, given.filename or kind, content_type or None
        )
    if not given:
        raise ApiError.bad_request(f"there is no {kind} in the request")
    if given.lower().startswith(("http://", "https://")):
        raise ApiError.bad_request("failed to get HTTP URL content")
    found = call.bot.files.get(given)
    if found is None:
        raise ApiError(400, errors.WRONG_FILE_ID)
    return found


@method("sendPhoto")
async def send_photo(call: Call) -> JSONDict:
    p = call.params
    chat = _chat(call)
    stored = _input_file(call, p.file("photo"), "photo")
    caption, formatted = _caption(p)
    return _send(
        call,
        chat,
        photo=stored,
        text=caption,
        plain_text=formatted.text or None,
        parse_mode=p.get_str("parse_mode") or None,
        entities=formatted.entities,
    )


@method("editMessageMedia")
async def edit_message_media(call: Call) -> JSONDict:
    """Replace a photo or document (and its caption); text messages have no media to edit."""
    p = call.params
    message = _message_to_edit(call)
    if message.document is None and message.photo is None:
        raise ApiError(400, errors.NO_MEDIA_TO_EDIT)
    media = p.get_json("media", "can't parse InputMedia JSON object")
    if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
        raise ApiError.bad_request("can't parse InputMedia JSON object")
    kind = str(media["type"])
    reference = media.get("media")
    given: UploadedFile | str | None = reference if isinstance(reference, str) else None
    if isinstance(reference, str) and reference.startswith("attach://"):
        given = p.files.get(reference[len("attach://") :])
        if given is None:
            raise ApiError.bad_request(f"file {reference} not found in the request")
    stored = _input_file(call, given, kind)
    caption_params = Params(
        {
            "caption": media.get("caption"),
            "parse_mode": media.get("parse_mode"),
            "caption_entities": media.get("caption_entities"),
        }
    )
    caption, formatted = _caption(caption_params)
    markup = _reply_markup(p, inline_only=True)
    current = message.photo if kind == "photo" else message.document
    if current is not None and current.data == stored.data:
        _check_modified(message, formatted, markup)
    call.state.edit_message(
        call.bot,
        message,
        photo=stored if kind == "photo" else None,
        document=stored if kind == "document" else None,
        text=caption,
        plain_text=formatted.text or None,
        parse_mode=caption_params.get_str("parse_mode") or None,
        entities=formatted.entities,
        reply_markup=markup,
    )
    return message.to_api()


@method("sendDocument")
async def send_document(call: Call) -> JSONDict:
    p = call.params
    chat = _chat(call)
    stored = _input_file(call, p.file("document"), "document")
    caption, formatted = _caption(p)
    return _send(
        call,
        chat,
        document=stored,
        text=caption,
        plain_text=formatted.text or None,
        parse_mode=p.get_str("parse_mode") or None,
        entities=formatted.entities,
    )


@method("sendLocation")
async def send_location(call: Call) -> JSONDict:
    p = call.params
    chat = _chat(call)
    latitude, longitude = p.get_float("latitude"), p.get_float("longitude")
    if latitude is None or not -90 <= latitude <= 90:
        raise ApiError.bad_request("wrong latitude")
    if longitude is None or not -180 <= longitude <= 180:
        raise ApiError.bad_request("wrong longitude")
    location: JSONDict = {"latitude": latitude, "longitude": longitude}
    for optional in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        value = p.get_float(optional)
        if value is not None:
            location[optional] = int(value) if optional != "horizontal_accuracy" else value
    return _send(call, chat, location=location)


@method("editMessageText")
async def edit_message_text(call: Call) -> JSONDict:
    p = call.params
    message = _message_to_edit(call)
    if message.is_caption or message.plain_text is None:
        raise ApiError(400, errors.NO_TEXT_TO_EDIT)
    text, formatted = _message_text(p)
    markup = _reply_markup(p, inline_only=True)
    _check_modified(message, formatted, markup)
    changes: JSONDict = {
        "text": text,
        "plain_text": formatted.text,
        "parse_mode": p.get_str("parse_mode") or None,
        "entities": formatted.entities,
        "reply_markup": markup,
    }
    if "link_preview_options" in p:
        changes["link_preview_options"] = _link_preview_options(p)
    call.state.edit_message(call.bot, message, **changes)
    return message.to_api()


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> JSONDict:
    p = call.params
    message = _message_to_edit(call)
    if message.document is None and message.photo is None:
        raise ApiError(400, errors.NO_CAPTION_TO_EDIT)
    caption, formatted = _caption(p)
    markup = _reply_markup(p, inline_only=True)
    _check_modified(message, formatted, markup)
    call.state.edit_message(
        call.bot,
        message,
        text=caption,
        plain_text=formatted.text or None,
        parse_mode=p.get_str("parse_mode") or None,
        entities=formatted.entities,
        reply_markup=markup,
    )
    return message.to_api()


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> JSONDict:
    message = _message_to_edit(call)
    markup = _reply_markup(call.params, inline_only=True)
    if markup == message.inline_markup:
        raise ApiError(400, errors.MESSAGE_NOT_MODIFIED)
    call.state.edit_message(call.bot, message, reply_markup=markup)
    return message.to_api()


@method("deleteMessage")
async def delete_message(call: Call) -> bool:
    chat = _chat(call, writable=False)
    message_id = call.params.get_int("message_id")
    message = chat.message(message_id) if message_id is not None else None
    if message is None or message.deleted:
        raise ApiError(400, errors.MESSAGE_TO_DELETE_NOT_FOUND)
    message.deleted = True
    event = call.state.record(
        EventKind.MESSAGE_DELETED, call.bot.info.id, chat.id, message.message_id, "deleted"
    )
    message.last_seq = event.seq
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    p = call.params
    query = call.bot.callback_queries.get(p.get_str("callback_query_id") or "")
    if query is None or query.answer is not None:
        raise ApiError(400, errors.QUERY_TOO_OLD)
    text = p.get_str("text")
    event = call.state.record(
        EventKind.CALLBACK_ANSWER,
        call.bot.info.id,
        query.chat_id,
        query.message_id,
        f"answered query {query.id}: {text!r}" + (" (alert)" if p.get_bool("show_alert") else ""),
    )
    query.answer = CallbackAnswer(
        text=text,
        show_alert=p.get_bool("show_alert"),
        url=p.get_str("url"),
        cache_time=p.get_int("cache_time") or 0,
        seq=event.seq,
    )
    return True


_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


@method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    chat = _chat(call)
    action = call.params.get_str("action") or ""
    if action not in _CHAT_ACTIONS:
        raise ApiError(400, errors.WRONG_CHAT_ACTION)
    chat.chat_actions.append(action)
    call.state.record(EventKind.CHAT_ACTION, call.bot.info.id, chat.id, None, action)
    return True


@method("getChat")
async def get_chat(call: Call) -> JSONDict:
    return _chat(call, writable=False).to_full_api()


@method("getFile")
async def get_file(call: Call) -> JSONDict:
    stored = call.bot.files.get(call.params.get_str("file_id") or "")
    if stored is None:
        raise ApiError(400, errors.INVALID_FILE_ID)
    return stored.to_file()
