"""Bot API errors as Telegram reports them, plus the harness's own misuse error.

The description strings matter: PTB maps them to exception types and messages, and the bot's
own code sometimes branches on them (e.g. ignoring "message is not modified"), so they are
copied verbatim from what Telegram answers.
"""

from __future__ import annotations

from typing import Any

JSONDict = dict[str, Any]

UNAUTHORIZED = "Unauthorized"
METHOD_NOT_FOUND = "Not Found: method not found"
NOT_FOUND = "Not Found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_CANT_BE_EDITED = "Bad Request: message can't be edited"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
MESSAGE_TO_REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
    "inline keyboard"
)
BAD_REPLY_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
TERMINATED_BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
WEBHOOK_HTTPS_REQUIRED = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
WEBHOOK_BAD_PORT = (
    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
)
SECRET_TOKEN_TOO_LONG = "Bad Request: secret token is too long"
SECRET_TOKEN_UNALLOWED = "Bad Request: secret token contains unallowed characters"
GET_UPDATES_TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "Bad Request: invalid file_id"
FILE_EMPTY = "Bad Request: file must be non-empty"
IMAGE_PROCESS_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
NO_MEDIA_TO_EDIT = "Bad Request: there is no media in the message to edit"
WRONG_CHAT_ACTION = "Bad Request: wrong parameter action in request"
BOT_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
BOT_COMMAND_DESCRIPTION_INVALID = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
CANT_PARSE_ENTITIES = "Bad Request: can't parse entities: "


def too_many_requests(retry_after: int) -> str:
    return f"Too Many Requests: retry after {retry_after}"


class ApiError(Exception):
    """An error answer of the Bot API; the HTTP status equals ``error_code`` as on Telegram."""

    def __init__(
        self, error_code: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, description: str) -> ApiError:
        """``description`` with the ``Bad Request: `` prefix added when it lacks it."""
        if not description.startswith("Bad Request: "):
            description = "Bad Request: " + description
        return cls(400, description)

    @classmethod
    def retry_after(cls, seconds: int) -> ApiError:
        return cls(429, too_many_requests(seconds), {"retry_after": seconds})

    def payload(self) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class EntityParseError(ValueError):
    """Malformed markup; becomes 400 "Bad Request: can't parse entities: <message>"."""


class LocalApiUsageError(RuntimeError):
    """The in-process API or the harness was used wrongly (unknown bot, no such button...).

    Distinct from :class:`ApiError`, which is what the *bot* gets over HTTP.
    """
