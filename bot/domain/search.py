"""What a typed search word matches: the same word however it was typed.

People type full-width letters (ｅｌｄｅｒｌｙ), capitals, traditional characters (義診 for
义诊, common among volunteers from Hong Kong, Macao and Taiwan or on phones set to traditional
input) and spaces where the title has none. :func:`search_variants` gives the forms a word is
looked up in; the repository matches any of them, with spaces ignored on both sides.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any


@functools.cache
def _to_simplified() -> Any:
    # OpenCC's traditional→simplified table (phrases included, e.g. 乾淨 → 干净 but 乾隆 stays).
    import opencc

    return opencc.OpenCC("t2s.json")


def fold(text: str) -> str:
    """Full-width to ASCII, case folded, spaces removed (titles are compared the same way)."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def search_variants(word: str) -> tuple[str, ...]:
    """The forms ``word`` is searched in: as typed and in simplified characters (folded)."""
    typed = fold(word)
    simplified = fold(_to_simplified().convert(typed))
    return (typed,) if simplified == typed else (typed, simplified)
