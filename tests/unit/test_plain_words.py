"""Typed words no form asked for (issue #13 item 14)."""

from __future__ import annotations

import pytest

from bot.domain.plain_words import PlainWords, classify


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好", PlainWords.GREETING),
        ("您好！", PlainWords.GREETING),
        ("Hello", PlainWords.GREETING),
        ("ＨＩ", PlainWords.GREETING),
        ("我想报名", PlainWords.SIGN_UP),
        ("报名。", PlainWords.SIGN_UP),
        ("I want to volunteer", PlainWords.SIGN_UP),
        ("义诊", PlainWords.SEARCH),
        ("legal aid", PlainWords.SEARCH),
        ("我上周报名了一个活动但是后来发现时间冲突了怎么办呢", PlainWords.UNKNOWN),
        ("one two three four", PlainWords.UNKNOWN),
        ("！！！", PlainWords.UNKNOWN),
        ("", PlainWords.UNKNOWN),
    ],
)
def test_classify(text: str, expected: PlainWords) -> None:
    assert classify(text) is expected
