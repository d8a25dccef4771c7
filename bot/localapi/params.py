"""Typed access to Bot API call parameters, whatever body encoding the client used.

Form and multipart bodies carry every value as a string (PTB JSON-encodes non-strings, so
``reply_markup`` arrives as a JSON string, ``True`` as ``"true"``), while JSON bodies carry real
types. The accessors accept both, so the methods never care how a request was encoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.localapi.errors import ApiError


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Parameters of one call: plain values plus uploaded files by part name."""

    def __init__(
        self, values: dict[str, Any] | None = None, files: dict[str, UploadedFile] | None = None
    ) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self.files: dict[str, UploadedFile] = dict(files or {})

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        return str(value).strip().lower() in ("true", "1", "yes", "on")

    def get_json(self, name: str, error: str | None = None) -> Any:
        """A nested object or array; strings are decoded as JSON (form-encoded requests)."""
        value = self.values.get(name)
        if value is None or not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError.bad_request(error or f"can't parse {name} JSON object") from None

    def chat_id(self, name: str = "chat_id") -> int:
        """A numeric chat id; ``@username`` targets (channels) are not supported locally."""
        value = self.values.get(name)
        if value is None or value == "":
            raise ApiError.bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise ApiError.bad_request("chat not found") from None

    def file(self, name: str) -> UploadedFile | str | None:
        """An uploaded file (directly or via ``attach://``) or a file_id / URL string."""
        if name in self.files:
            return self.files[name]
        value = self.get_str(name)
        if value and value.startswith("attach://"):
            attached = self.files.get(value[len("attach://") :])
            if attached is None:
                raise ApiError.bad_request(f"file {value} not found in the request")
            return attached
        return value
