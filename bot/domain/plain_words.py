"""What a few typed words no form asked for probably mean.

People write to a bot as they would to a person: "你好", "我想报名", or just "义诊". Answering
all of that with "I did not understand" is a dead end, so short messages are read as a greeting,
as a wish to sign up, or as words to search for; anything longer still gets the help hint.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Final


class PlainWords(StrEnum):
    GREETING = "greeting"  # → the main menu
    SIGN_UP = "sign_up"  # → the service menu
    SEARCH = "search"  # → search for the words
    UNKNOWN = "unknown"  # → the help hint


GREETINGS: Final = frozenset(
    {
        "你好",
        "您好",
        "嗨",
        "哈喽",
        "在吗",
        "在么",
        "早上好",
        "晚上好",
        "下午好",
        "hi",
        "hello",
        "hey",
        "good morning",
        "good evening",
    }
)
SIGN_UP_WORDS: Final = frozenset(
    {
        "报名",
        "我想报名",
        "我要报名",
        "怎么报名",
        "如何报名",
        "参加",
        "我想参加",
        "我要参加",
        "当志愿者",
        "我想当志愿者",
        "做志愿者",
        "我想做志愿者",
        "志愿服务",
        "sign up",
        "signup",
        "join",
        "volunteer",
        "i want to volunteer",
        "i want to sign up",
    }
)
#: Longer messages are not taken as search words (a sentence is not a query).
MAX_SEARCH_CHARACTERS: Final = 20
MAX_SEARCH_WORDS: Final = 3

_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


def normalize(text: str) -> str:
    """Full-width folded, lower case, single spaces, no punctuation at the ends.

    "你好！" → "你好"; "ＨＥＬＬＯ " → "hello"."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _EDGE_PUNCTUATION.sub("", folded)


def classify(text: str) -> PlainWords:
    words = normalize(text)
    if not words:
        return PlainWords.UNKNOWN
    if words in GREETINGS:
        return PlainWords.GREETING
    if words in SIGN_UP_WORDS:
        return PlainWords.SIGN_UP
    if len(words) <= MAX_SEARCH_CHARACTERS and len(words.split()) <= MAX_SEARCH_WORDS:
        return PlainWords.SEARCH
    return PlainWords.UNKNOWN
