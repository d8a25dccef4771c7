"""Callback data: short, versioned strings routed by prefix (``menu:browse``, ``lang:zh``).

Callback data is client input: a press can be forged or replayed, so every handler re-checks on
the server that the object exists, is in the right state and that this user may act on it.

Numbers in callback data are parsed here and only here, strictly: ASCII digits and nothing else.
``str.isdigit()`` is no guard, it accepts "²" or "١٢", which ``int()`` then rejects or reads.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import re
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self, dataclass_transform, get_type_hints

from telegram import InlineKeyboardButton

MAX_CALLBACK_BYTES = 64  # Telegram's limit
MAX_ID_DIGITS = 12  # our own row ids
MAX_TELEGRAM_ID_DIGITS = 16  # Telegram ids fit in 52 bits

_DIGITS = re.compile(r"[0-9]+")


def callback(*parts: str | int) -> str:
    data = ":".join(str(part) for part in parts)
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def split(data: str | None) -> list[str]:
    return (data or "").split(":")


def button(label: str, *parts: str | int) -> InlineKeyboardButton:
    """An inline button whose callback data is ``parts`` joined (see :func:`callback`)."""
    return InlineKeyboardButton(label, callback_data=callback(*parts))


def button_rows(
    buttons: list[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out ``width`` to a row."""
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def parse_int(text: str | None, max_digits: int) -> int | None:
    """A whole number of 1 to ``max_digits`` ASCII digits (no sign, no spaces), else ``None``."""
    if text is None or not 0 < len(text) <= max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def parse_page(text: str | None, max_page: int) -> int | None:
    """A page number from 0 to ``max_page``, else ``None``."""
    page = parse_int(text, len(str(max_page)))
    return page if page is not None and page <= max_page else None


def parse_id(text: str | None) -> int | None:
    """A row id (positive, at most 12 digits), else ``None``."""
    value = parse_int(text, MAX_ID_DIGITS)
    return value if value else None


def parse_telegram_id(text: str | None) -> int | None:
    """A Telegram user id (positive, at most 16 digits), else ``None``."""
    value = parse_int(text, MAX_TELEGRAM_ID_DIGITS)
    return value if value else None


# ------------------------------------------------------------------------------ typed buttons


@dataclass_transform(frozen_default=True)
class Press:
    """Typed callback data: one subclass per button family, a frozen record with a prefix.

    ::

        class RegBack(Press, prefix="reg.back"):
            step: RegistrationStep  # the step the button was drawn for
            version: int

        RegBack(step, 3).pack()          # "reg.back:name:3"
        RegBack.parse(query.data)        # RegBack(...) or None (malformed or forged)
        PressQueryHandler(on_back, RegBack.matches, RegBack.prefix)

    Fields may be ``int`` (ASCII digits only, at most 16 of them), ``str`` (a code of
    ``[A-Za-z0-9_-]``, at most 32 characters), ``bool`` ("1"/"0") or a ``StrEnum`` (its values).
    ``parse`` refuses anything else, so a forged press never raises; it still has to be
    re-checked on the server (exists, right state, this user may). A button should carry what
    it was drawn for (a step, a version) so that a stale press acts on what the user saw or is
    refused. Prefixes are unique (checked when the class is defined) and the packed data is
    checked against Telegram's 64 bytes.

    A family behaves as a frozen dataclass (positional or keyword fields in the order written,
    defaults, equality and hash by family and values, ``FrozenInstanceError``, ``match``), but
    is not made by ``@dataclass``: on Python 3.11 that compiles five or six functions per class
    (``__init__``, ``__eq__``, ``__hash__``, ``__repr__``, the frozen ``__setattr__`` and
    ``__delattr__``), ≈ 0.4 ms each family, and the bot has some 270 families: 0.12 s of every
    start (bench.startup, issue #14). Here the methods are shared and read ``_names``.
    """

    prefix: ClassVar[str]
    _head: ClassVar[str]
    _names: ClassVar[tuple[str, ...]]
    _defaults: ClassVar[dict[str, Any]]
    _fields: ClassVar[tuple[tuple[str, Any], ...]]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"bad callback prefix {prefix!r}")
        if prefix in PRESS_FAMILIES:
            raise ValueError(f"callback prefix {prefix!r} is used twice")
        # The annotations are strings (``from __future__ import annotations``); their types are
        # resolved when first parsed or packed (:meth:`_field_types`), not at definition.
        # A family made from another one keeps its fields first, as a dataclass would.
        inherited: tuple[str, ...] = getattr(cls, "_names", ())
        names = inherited + tuple(
            name
            for name, annotation in inspect.get_annotations(cls).items()
            if name not in inherited
            and not str(annotation).startswith(("ClassVar", "typing.ClassVar"))
        )
        defaults = {**getattr(cls, "_defaults", {})}
        defaults |= {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        for earlier, later in itertools.pairwise(names):
            if earlier in defaults and later not in defaults:
                raise TypeError(f"{cls.__name__}: field {later!r} without a default follows one")
        cls.prefix = prefix
        cls._head = prefix + ":"
        cls._names = names
        cls._defaults = defaults
        type.__setattr__(cls, "__match_args__", names)  # for ``match`` (mypy makes its own)
        PRESS_FAMILIES[prefix] = cls

    if not TYPE_CHECKING:  # the type checker sees each family's own fields instead

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            names = self._names
            if len(args) > len(names):
                raise TypeError(f"{type(self).__name__} takes {len(names)} fields")
            values = dict(zip(names, args, strict=False))  # fewer args: defaults
            for name, value in kwargs.items():
                if name not in names or name in values:
                    raise TypeError(f"{type(self).__name__}: unexpected or repeated {name!r}")
                values[name] = value
            for name in names:
                if name in values:
                    value = values[name]
                elif name in self._defaults:
                    value = self._defaults[name]
                else:
                    raise TypeError(f"{type(self).__name__}: missing field {name!r}")
                object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.prefix, *self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names)
        return f"{type(self).__name__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    @classmethod
    def _field_types(cls) -> tuple[tuple[str, Any], ...]:
        found = cls.__dict__.get("_fields")
        if found is None:
            hints = get_type_hints(cls)
            found = tuple((name, hints[name]) for name in cls._names)
            cls._fields = found
        return found

    def pack(self) -> str:
        parts = [self.prefix]
        for name, kind in self._field_types():
            value = getattr(self, name)
            if kind is bool:
                parts.append("1" if value else "0")
            elif isinstance(value, Enum):
                parts.append(str(value.value))
            else:
                parts.append(str(value))
        return callback(*parts)

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        """The press, or ``None`` when the data is not exactly this family's shape."""
        prefix, *texts = split(data)
        fields = cls._field_types()
        if prefix != cls.prefix or len(texts) != len(fields):
            return None
        values: dict[str, Any] = {}
        for (name, kind), text in zip(fields, texts, strict=True):
            value = _parse_field(kind, text)
            if value is None:
                return None
            values[name] = value
        return cls(**values)

    @classmethod
    def matches(cls, data: object) -> bool:
        """Whether callback data is of this family (its prefix, then ``:`` or the end): how
        a :class:`~handlers.press_table.PressQueryHandler` routes, with two string tests
        rather than a regex per family tried on every press."""
        return isinstance(data, str) and (data == cls.prefix or data.startswith(cls._head))

    def button(self, label: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=self.pack())

    def exactly(self) -> Callable[[object], bool]:
        """A test matching exactly this press (for families whose values are routed to
        different modules, like the main menu's entries)."""
        packed = self.pack()
        return lambda data: data == packed


#: Every typed button family by prefix (filled as the classes are defined).
PRESS_FAMILIES: dict[str, type[Press]] = {}

_PREFIX = re.compile(r"[a-z][a-z0-9]*(\.[a-z0-9]+)*")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _parse_field(kind: Any, text: str) -> Any:
    if kind is bool:
        return {"1": True, "0": False}.get(text)
    if kind is int:
        return parse_int(text, MAX_TELEGRAM_ID_DIGITS)
    if kind is str:
        return text if _CODE.fullmatch(text) else None
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(text)
        except ValueError:
            return None
    raise TypeError(f"unsupported callback field type {kind!r}")


class MenuItem(StrEnum):
    """The main menu's entries (and the "🏠 Main menu" button): each feature module handles
    its own entry (:meth:`Press.exactly`); :mod:`handlers.start` answers the rest."""

    HOME = "home"
    HELP = "help"
    LANGUAGE = "language"
    BROWSE = "browse"
    MY = "my"
    PROFILE = "profile"
    ORGANIZE = "organize"
    REQUEST = "request"
    REQUESTS = "requests"


class MenuOpen(Press, prefix="menu"):
    """``menu:<entry>``: open a main-menu entry."""

    item: MenuItem


class RegisterFor(Press, prefix="reg.for"):
    """📝 Register on an activity card: register, then come back to that card."""

    activity_id: int


def legacy_register_for(data: str) -> Press | None:
    """``su:reg:<id>``, drawn before the typed family (still on cards sent earlier)."""
    found = legacy_fields(data, "su", "reg", parse_id)
    return RegisterFor(*found) if found is not None else None


#: One part of old-format callback data: a literal, or a parser of a value (``None``: bad).
LegacyPart = str | Callable[[str], Any]


def legacy_fields(data: str | None, *shape: LegacyPart) -> tuple[Any, ...] | None:
    """The values of old-format data (drawn before the typed families, still in chats) that
    has exactly ``shape``: each literal matches its part, each parser reads one value
    (``parse_id`` …); ``None`` when the data has another shape or a value does not parse.

    ``legacy_fields("rm:y:7", "rm", "y", parse_id)`` → ``(7,)``."""
    parts = split(data)
    if len(parts) != len(shape):
        return None
    values: list[Any] = []
    for part, expected in zip(parts, shape, strict=True):
        if isinstance(expected, str):
            if part != expected:
                return None
            continue
        value = expected(part)
        if value is None:
            return None
        values.append(value)
    return tuple(values)
