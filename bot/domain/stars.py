"""Star levels (星级认定): derived from confirmed hours with thresholds administrators edit.

A level is never stored as "the volunteer's level": it is computed from the hours and the
thresholds on every read, so an edited threshold changes everyone's level at the next look.
What is stored per level (``volunteer_stars``) is what *happened*: congratulated, applied,
publicised, objected, granted.

Two modes (setting ``STAR_APPLICATION``):

* off (default): a level counts as soon as the hours reach it;
* on: the hours make the volunteer *eligible*; the volunteer applies, the level is publicised
  for ``STAR_PUBLICITY_DAYS`` and then granted unless an administrator objects. The level shown
  is the highest granted level the hours still reach (raised thresholds lower it too).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput
from bot.i18n import N_

LEVELS: Final = 5
#: The common convention (GUIDE §6); Beijing uses 100/200/500/800/1000.
DEFAULT_THRESHOLDS: Final = (100, 300, 600, 1000, 1500)
BEIJING_THRESHOLDS: Final = (100, 200, 500, 800, 1000)
MAX_THRESHOLD_HOURS: Final = 100_000

THRESHOLDS_COUNT: Final = N_(
    "Please type five numbers of hours, one for each level from 1★ to 5★, e.g. "
    "100 300 600 1000 1500. You typed {count}."
)
THRESHOLDS_NOT_NUMBERS: Final = N_(
    "Please type whole numbers of hours only, separated by spaces, e.g. 100 300 600 1000 1500."
)
THRESHOLDS_RANGE: Final = N_("Every threshold must be from 1 to {max} hours.")
THRESHOLDS_ORDER: Final = N_(
    "Each level needs more hours than the one before it: {lower} h for {level_lower}★ but "
    "{higher} h for {level_higher}★."
)


@dataclass(frozen=True)
class Thresholds:
    """Hours needed for 1★ … 5★, strictly increasing."""

    hours: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.hours) != LEVELS or any(
            b <= a for a, b in zip(self.hours, self.hours[1:], strict=False)
        ):
            raise ValueError(f"thresholds must be {LEVELS} increasing numbers: {self.hours}")

    def level_for(self, minutes: int) -> int:
        """The level ``minutes`` of confirmed service reach (0: none yet)."""
        return sum(1 for hours in self.hours if minutes >= hours * 60)

    def minutes_for(self, level: int) -> int:
        return self.hours[level - 1] * 60


_SEPARATORS = re.compile(r"[\s,，、/;；]+")


def parse_thresholds(text: str) -> Thresholds:
    """``"100 300 600 1000 1500"`` (commas, 、 or slashes also separate; full-width digits are
    fine) → thresholds; raises :class:`InvalidInput` with a localizable reason."""
    folded = unicodedata.normalize("NFKC", text).strip()
    for suffix in ("小时", "h"):
        folded = folded.replace(suffix, " ")
    parts = [part for part in _SEPARATORS.split(folded) if part]
    if not all(part.isascii() and part.isdigit() and len(part) <= 7 for part in parts):
        raise InvalidInput(THRESHOLDS_NOT_NUMBERS)
    if len(parts) != LEVELS:
        raise InvalidInput(THRESHOLDS_COUNT, {"count": len(parts)})
    hours = tuple(int(part) for part in parts)
    if any(not 1 <= value <= MAX_THRESHOLD_HOURS for value in hours):
        raise InvalidInput(THRESHOLDS_RANGE, {"max": MAX_THRESHOLD_HOURS})
    for index in range(1, LEVELS):
        if hours[index] <= hours[index - 1]:
            raise InvalidInput(
                THRESHOLDS_ORDER,
                {
                    "lower": hours[index - 1],
                    "level_lower": index,
                    "higher": hours[index],
                    "level_higher": index + 1,
                },
            )
    return Thresholds(hours)


class StarStatus(StrEnum):
    ELIGIBLE = "eligible"
    PUBLICISED = "publicised"
    GRANTED = "granted"
    OBJECTED = "objected"


@dataclass(frozen=True)
class StarRow:
    """One level of one volunteer in ``volunteer_stars``."""

    volunteer_id: int
    level: int
    status: StarStatus
    reached_at: datetime
    publicity_ends_at: datetime | None = None
    objection: str | None = None


@dataclass(frozen=True)
class Standing:
    """What ``/profile`` shows: the level, the hours, and what the next level needs."""

    minutes: int
    level: int
    #: The level the hours reach (equal to ``level`` unless applications are on).
    earned: int
    next_level: int | None
    minutes_to_next: int | None
    #: Application mode: the level the volunteer may apply for now, and one in publicity.
    can_apply: int | None = None
    publicised: StarRow | None = None


def standing(
    minutes: int,
    thresholds: Thresholds,
    rows: list[StarRow],
    *,
    application: bool,
) -> Standing:
    """The volunteer's standing from the hours, the thresholds and their stored rows."""
    earned = thresholds.level_for(minutes)
    if application:
        granted = max((row.level for row in rows if row.status is StarStatus.GRANTED), default=0)
        level = min(granted, earned)
    else:
        level = earned
    next_level = level + 1 if level < LEVELS else None
    to_next = (
        max(0, thresholds.minutes_for(next_level) - minutes) if next_level is not None else None
    )
    can_apply: int | None = None
    publicised = next((row for row in rows if row.status is StarStatus.PUBLICISED), None)
    if application and publicised is None and earned > level:
        # One application at a time, for the highest level the hours reach.
        can_apply = earned
    return Standing(
        minutes=minutes,
        level=level,
        earned=earned,
        next_level=next_level,
        minutes_to_next=to_next,
        can_apply=can_apply,
        publicised=publicised,
    )


def stars_text(level: int) -> str:
    """``★★★☆☆`` for 3 (no words: the same in both languages)."""
    return "★" * level + "☆" * (LEVELS - level)


class StarRefusal(StrEnum):
    NOT_ELIGIBLE = "not_eligible"  # the hours do not reach that level (any more)
    NOT_PUBLICISED = "not_publicised"  # the publicity is over or was objected to already
    APPLICATIONS_OFF = "applications_off"  # levels count at once; nothing to apply for
    NOT_REGISTERED = "not_registered"


class StarRefused(Refused):
    def __init__(self, reason: StarRefusal) -> None:
        super().__init__(reason)
        self.reason: StarRefusal = reason
