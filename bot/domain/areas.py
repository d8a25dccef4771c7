"""Which district a typed place belongs to (issue #13 item 5).

The area step invites "your district or community", and people type "岳麓", "橘子洲街道",
"梅溪湖" or "岳麓区麓山南路 1 号". Stored as free text with no district, none of that would ever
match an activity's area, so a typed place is resolved to a district, in this order:

1. a district's own name (Chinese or English, any case), or its name without 区/县/市;
2. a district whose name starts with what was typed ("岳麓" → 岳麓区);
3. a known place (街道, towns, landmarks; ``area_places``) typed as such or with its suffix off,
   at the start of the text ("橘子洲街道", "梅溪湖", "梅溪湖某小区");
4. a district's short name anywhere in the text ("长沙市岳麓区麓山南路").

One district found: resolved. Several: ambiguous (the person chooses). None: unknown (said so).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.volunteers import CatalogItem

_DISTRICT_SUFFIXES = ("区", "县", "市")
_PLACE_SUFFIXES = ("街道", "镇", "乡")
#: Short stems ("区") would match everything: stems shorter than this are not searched for.
MIN_STEM = 2


class AreaMatch(StrEnum):
    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AreaResolution:
    match: AreaMatch
    code: str | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _stem(name: str, suffixes: Sequence[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_STEM:
            return name[: -len(suffix)]
    return name


def _one(codes: Sequence[str]) -> AreaResolution | None:
    unique = tuple(dict.fromkeys(codes))
    if len(unique) == 1:
        return AreaResolution(AreaMatch.RESOLVED, unique[0])
    if len(unique) > 1:
        return AreaResolution(AreaMatch.AMBIGUOUS, candidates=unique)
    return None


def resolve_area(
    typed: str, districts: Sequence[CatalogItem], places: Mapping[str, str]
) -> AreaResolution:
    """The district ``typed`` names (see the module's order of rules)."""
    text = _fold(typed)
    if not text:
        return AreaResolution(AreaMatch.UNKNOWN)
    active = [district for district in districts if district.is_active]
    stems = {d.code: _fold(_stem(d.name_zh, _DISTRICT_SUFFIXES)) for d in active}
    exact = [
        d.code
        for d in active
        if text in (_fold(d.name_zh), _fold(d.name_en), stems[d.code])
        or text == _fold(_stem(d.name_en, (" district", " county")))
    ]
    for found in (
        _one(exact),
        _one(
            [d.code for d in active if len(text) >= MIN_STEM and _fold(d.name_zh).startswith(text)]
        ),
        _one(
            [
                code
                for name, code in places.items()
                for form in {_fold(name), _fold(_stem(name, _PLACE_SUFFIXES))}
                if len(form) >= MIN_STEM and text.startswith(form)
            ]
        ),
        _one([code for code, stem in stems.items() if len(stem) >= MIN_STEM and stem in text]),
    ):
        if found is not None:
            return found
    return AreaResolution(AreaMatch.UNKNOWN)
