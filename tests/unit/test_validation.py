from __future__ import annotations

import pickle
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from bot.catalogs import KEYWORDS, PLACEHOLDER
from bot.domain import validation as v
from bot.domain.validation import InvalidInput

TODAY = date(2026, 5, 4)

# The msgids babel extracts from the module, i.e. what ends up in the catalogs.
MSGIDS = frozenset(
    message
    for _lineno, message, _comments, _context in extract_from_file(
        "python", Path(v.__file__), keywords=KEYWORDS
    )
    if isinstance(message, str)
)

NAME_LIMITS = {"min": 2, "max": 30}
AREA_LIMITS = {"min": 2, "max": 40}


def check_error(error: InvalidInput, message: str, params: dict[str, object]) -> None:
    assert error.message == message
    assert error.message in MSGIDS
    assert error.params == params
    # Every placeholder of the message is filled in, so the handler's .format() cannot fail.
    assert set(PLACEHOLDER.findall(error.message)) <= set(error.params)
    assert str(error) == error.message.format(**error.params)


@contextmanager
def expect_invalid(message: str, params: dict[str, object] | None = None) -> Iterator[None]:
    """The block raises ``InvalidInput(message, params)``."""
    with pytest.raises(InvalidInput) as caught:
        yield
    check_error(caught.value, message, params or {})


# --- the error type and the messages ---------------------------------------------------------


def test_every_message_constant_is_extracted_for_the_catalogs() -> None:
    constants = {
        value
        for name, value in vars(v).items()
        if not name.startswith("_") and name.isupper() and isinstance(value, str)
    }
    assert constants == MSGIDS
    assert len(MSGIDS) >= 25


@pytest.mark.parametrize("message", sorted(MSGIDS))
def test_messages_are_short_sentences_with_known_placeholders(message: str) -> None:
    assert message[0].isupper()
    assert message.endswith(".")
    assert len(message) <= 120
    assert set(PLACEHOLDER.findall(message)) <= {
        "min",
        "max",
        "length",
        "count",
        "year",
        "month",
        "day",
        "days",
        "age",
    }


def test_invalid_input_is_a_value_error_that_translates() -> None:
    error = InvalidInput(v.NAME_TOO_LONG, {"min": 2, "max": 30, "length": 31})
    assert isinstance(error, ValueError)
    assert error.params == {"min": 2, "max": 30, "length": 31}
    assert str(error) == "A name has at most 30 characters; yours has 31. Please shorten it."
    catalog = {v.NAME_TOO_LONG: "姓名最多{max}个字，您输入了{length}个字。"}
    assert (
        error.translate(lambda msgid: catalog.get(msgid, msgid))
        == "姓名最多30个字，您输入了31个字。"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.params) == (error.message, error.params)
    assert InvalidInput(v.NAME_EMPTY).params == {}


# --- links ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://x.cn", True),
        ("请看 https://example.org/a?b=1", True),
        ("tg://resolve?domain=spam", True),
        ("www.example.com", True),
        ("ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", True),
        ("www。example。com", True),
        ("t.me/spam_channel", True),
        ("telegram.me/spam", True),
        ("@spam", True),
        ("联系@spam_bot", True),
        ("加我abc.com", True),
        ("mail me: li@qq.com", True),
        ("张三", False),
        ("Mary Smith", False),
        ("Mr.Smith", False),
        ("3.14", False),
        ("朝阳区望京街道3号楼", False),
        ("email me", False),
        ("a@b", False),
        ("", False),
    ],
)
def test_contains_link(text: str, expected: bool) -> None:
    assert v.contains_link(text) is expected


# --- real names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("阿卜杜･热合曼", "阿卜杜·热合曼"),  # half-width katakana middle dot
        ("阿卜杜 · 热合曼", "阿卜杜·热合曼"),
        ("  张三  ", "张三"),
        ("张 三", "张三"),
        ("张\u3000三", "张三"),
        ("张\u200b三", "张三"),  # zero-width space pasted along
        ("Mary Smith", "Mary Smith"),
        ("  Mary \t  Smith\n", "Mary Smith"),
        ("O'Brien", "O'Brien"),
        ("O’Brien", "O'Brien"),
        ("Jean-Luc", "Jean-Luc"),
        ("Jean - Luc Picard", "Jean-Luc Picard"),
        ("Ｍａｒｙ　Ｓｍｉｔｈ", "Mary Smith"),
        ("Zoë Saldaña", "Zoë Saldaña"),
        ("Zoe\u0308", "Zoë"),  # NFKC composes the diaeresis
        ("Анна Петрова", "Анна Петрова"),
        ("प्रिया", "प्रिया"),  # Devanagari vowel signs are combining marks
        ("Li", "Li"),
        ("张" * 30, "张" * 30),
    ],
)
def test_normalize_real_name_accepts(text: str, expected: str) -> None:
    assert v.normalize_real_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "params"),
    [
        ("", v.NAME_EMPTY, {}),
        ("   ", v.NAME_EMPTY, {}),
        ("\u3000\n", v.NAME_EMPTY, {}),
        ("\u200b", v.NAME_EMPTY, {}),
        ("张", v.NAME_TOO_SHORT, {**NAME_LIMITS, "length": 1}),
        ("a", v.NAME_TOO_SHORT, {**NAME_LIMITS, "length": 1}),
        ("a" * 31, v.NAME_TOO_LONG, {**NAME_LIMITS, "length": 31}),
        ("张" * 31, v.NAME_TOO_LONG, {**NAME_LIMITS, "length": 31}),
        ("张三3", v.NAME_DIGITS, {}),
        ("张三３", v.NAME_DIGITS, {}),
        ("Mary Smith 2", v.NAME_DIGITS, {}),
        ("张三①", v.NAME_DIGITS, {}),
        ("😀😀", v.NAME_SYMBOLS, {}),
        ("😀张三", v.NAME_SYMBOLS, {}),
        ("张三👨‍👩‍👧", v.NAME_SYMBOLS, {}),  # joiners inside an emoji are not "control"
        ("张三3😀", v.NAME_SYMBOLS, {}),
        ("张三!", v.NAME_SYMBOLS, {}),
        ("Mary.Smith", v.NAME_SYMBOLS, {}),
        ("张三\ufe0f", v.NAME_SYMBOLS, {}),
        ("\x07", v.TEXT_CONTROL_CHARACTER, {}),
        ("张\x07三", v.TEXT_CONTROL_CHARACTER, {}),
        ("张三\x1f", v.TEXT_CONTROL_CHARACTER, {}),
        ("张\u200d三", v.TEXT_CONTROL_CHARACTER, {}),
        ("\u202eMary", v.TEXT_CONTROL_CHARACTER, {}),
        ("http://x.cn", v.NAME_LINK, {}),
        ("www.spam.cn", v.NAME_LINK, {}),
        ("t.me/spam", v.NAME_LINK, {}),
        ("@spam", v.NAME_LINK, {}),
        ("张三 @spammer", v.NAME_LINK, {}),
        ("·张三", v.NAME_SEPARATORS, {}),
        ("张三-", v.NAME_SEPARATORS, {}),
        ("'Brien", v.NAME_SEPARATORS, {}),
        ("Jean--Luc", v.NAME_SEPARATORS, {}),
        ("阿卜杜··热合曼", v.NAME_SEPARATORS, {}),
        ("--", v.NAME_SEPARATORS, {}),
    ],
)
def test_normalize_real_name_rejects(text: str, message: str, params: dict[str, object]) -> None:
    with expect_invalid(message, params):
        v.normalize_real_name(text)


def test_name_messages_are_distinct() -> None:
    messages = [
        v.NAME_EMPTY,
        v.NAME_TOO_SHORT,
        v.NAME_TOO_LONG,
        v.NAME_DIGITS,
        v.NAME_SYMBOLS,
        v.TEXT_CONTROL_CHARACTER,
        v.NAME_LINK,
        v.NAME_SEPARATORS,
    ]
    assert len(set(messages)) == len(messages)


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "+8613812345678"),
        (" 13812345678 ", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("138—1234—5678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("+86-13812345678", "+8613812345678"),
        ("0086-138-1234-5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("(+86) 138 1234 5678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),
        ("＋８６　１３８－１２３４－５６７８", "+8613812345678"),
        ("(010) 6552 9988", "+861065529988"),  # a Beijing landline is a fine contact too
        ("+44 20 7946 0958", "+442079460958"),
        ("+852 5123 4567", "+85251234567"),
    ],
)
def test_normalize_phone_accepts(text: str, expected: str) -> None:
    assert v.normalize_phone(text) == expected


def test_normalize_phone_uses_the_default_region() -> None:
    assert v.normalize_phone("020 7946 0958", default_region="GB") == "+442079460958"
    assert v.normalize_phone("+8613812345678", default_region="GB") == "+8613812345678"


@pytest.mark.parametrize(
    ("text", "message", "params"),
    [
        ("", v.PHONE_EMPTY, {}),
        ("   ", v.PHONE_EMPTY, {}),
        ("abc", v.PHONE_NOT_A_NUMBER, {}),
        ("手机13812345678", v.PHONE_NOT_A_NUMBER, {}),
        ("138-1234-5678 ext", v.PHONE_NOT_A_NUMBER, {}),
        ("+", v.PHONE_NOT_A_NUMBER, {}),
        ("---", v.PHONE_NOT_A_NUMBER, {}),
        ("12345", v.PHONE_INVALID, {"count": 5}),
        ("1381234567", v.PHONE_INVALID, {"count": 10}),
        ("138123456789", v.PHONE_INVALID, {"count": 12}),
        ("+86 1381234567", v.PHONE_INVALID, {"count": 12}),
        ("+999 123", v.PHONE_INVALID, {"count": 6}),
        ("+44 20 7946 09", v.PHONE_INVALID, {"count": 10}),
    ],
)
def test_normalize_phone_rejects(text: str, message: str, params: dict[str, object]) -> None:
    with expect_invalid(message, params):
        v.normalize_phone(text)


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+8613812345678", "+86 138 1234 5678"),
        ("+861065529988", "+86 10 6552 9988"),
        ("+442079460958", "+44 20 7946 0958"),
        ("not a number", "not a number"),
    ],
)
def test_format_phone_for_display(e164: str, expected: str) -> None:
    assert v.format_phone_for_display(e164) == expected


# --- dates of birth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1990-05-04",
        "1990-5-4",
        "1990/5/4",
        "1990/05/04",
        "1990.5.4",
        "1990 5 4",
        "1990  5  4",
        "1990 - 5 - 4",
        "19900504",
        "1990年5月4日",
        "1990年05月04日",
        "1990年5月4号",
        "1990 年 5 月 4 日",
        "1990年5月4",
        "１９９０年５月４日",
        "１９９０－０５－０４",
        "１９９０／５／４",
        "  1990-05-04\n",
    ],
)
def test_parse_birth_date_formats(text: str) -> None:
    assert v.parse_birth_date(text, TODAY) == date(1990, 5, 4)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("2024-02-29", date(2031, 3, 1), date(2024, 2, 29)),
        ("2000-02-29", TODAY, date(2000, 2, 29)),
        ("1925-05-05", TODAY, date(1925, 5, 5)),  # exactly 100
        ("2020-05-04", TODAY, date(2020, 5, 4)),  # 6 today
        ("2020-05-05", date(2026, 5, 5), date(2020, 5, 5)),
    ],
)
def test_parse_birth_date_edges_accepted(text: str, today: date, expected: date) -> None:
    assert v.parse_birth_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "message", "params"),
    [
        ("", v.BIRTH_DATE_FORMAT, {}),
        ("yesterday", v.BIRTH_DATE_FORMAT, {}),
        ("May 4, 1990", v.BIRTH_DATE_FORMAT, {}),
        ("04/05/1990", v.BIRTH_DATE_FORMAT, {}),  # day-first: refused, not guessed
        ("90-5-4", v.BIRTH_DATE_FORMAT, {}),
        ("1990-5/4", v.BIRTH_DATE_FORMAT, {}),
        ("199054", v.BIRTH_DATE_FORMAT, {}),
        ("1990年5月", v.BIRTH_DATE_FORMAT, {}),
        ("1990-02-30", v.BIRTH_DATE_DAY, {"year": 1990, "month": 2, "day": 30, "days": 28}),
        ("2023-02-29", v.BIRTH_DATE_DAY, {"year": 2023, "month": 2, "day": 29, "days": 28}),
        ("1900-02-29", v.BIRTH_DATE_DAY, {"year": 1900, "month": 2, "day": 29, "days": 28}),
        ("1996-02-30", v.BIRTH_DATE_DAY, {"year": 1996, "month": 2, "day": 30, "days": 29}),
        ("1990年4月31日", v.BIRTH_DATE_DAY, {"year": 1990, "month": 4, "day": 31, "days": 30}),
        ("19900100", v.BIRTH_DATE_DAY, {"year": 1990, "month": 1, "day": 0, "days": 31}),
        ("1990-13-01", v.BIRTH_DATE_MONTH, {"month": 13}),
        ("19900015", v.BIRTH_DATE_MONTH, {"month": 0}),
        ("2026-05-05", v.BIRTH_DATE_FUTURE, {}),
        ("2090-01-01", v.BIRTH_DATE_FUTURE, {}),
        ("1925-05-04", v.BIRTH_DATE_TOO_OLD, {"age": 101, "max": 100}),
        ("1825-05-04", v.BIRTH_DATE_TOO_OLD, {"age": 201, "max": 100}),
        ("0000-01-01", v.BIRTH_DATE_TOO_OLD, {"age": 2026, "max": 100}),
        ("2021-05-04", v.BIRTH_DATE_TOO_YOUNG, {"age": 5, "min": 6}),
        ("2020-05-05", v.BIRTH_DATE_TOO_YOUNG, {"age": 5, "min": 6}),
        ("2026-05-04", v.BIRTH_DATE_TOO_YOUNG, {"age": 0, "min": 6}),
    ],
)
def test_parse_birth_date_rejects(text: str, message: str, params: dict[str, object]) -> None:
    with expect_invalid(message, params):
        v.parse_birth_date(text, TODAY)


@pytest.mark.parametrize(
    ("year", "month", "day", "message", "params"),
    [
        (1990, 2, 30, v.BIRTH_DATE_DAY, {"year": 1990, "month": 2, "day": 30, "days": 28}),
        (2023, 2, 29, v.BIRTH_DATE_DAY, {"year": 2023, "month": 2, "day": 29, "days": 28}),
        (1990, 0, 1, v.BIRTH_DATE_MONTH, {"month": 0}),
        (1990, 12, 32, v.BIRTH_DATE_DAY, {"year": 1990, "month": 12, "day": 32, "days": 31}),
        (2027, 1, 1, v.BIRTH_DATE_FUTURE, {}),
        (10000, 1, 1, v.BIRTH_DATE_FUTURE, {}),
        (1900, 1, 1, v.BIRTH_DATE_TOO_OLD, {"age": 126, "max": 100}),
        (-5, 1, 1, v.BIRTH_DATE_TOO_OLD, {"age": 2031, "max": 100}),
        (2021, 1, 1, v.BIRTH_DATE_TOO_YOUNG, {"age": 5, "min": 6}),
    ],
)
def test_build_birth_date_rejects(
    year: int, month: int, day: int, message: str, params: dict[str, object]
) -> None:
    with expect_invalid(message, params):
        v.build_birth_date(year, month, day, TODAY)


def test_build_birth_date_accepts() -> None:
    assert v.build_birth_date(1990, 5, 4, TODAY) == date(1990, 5, 4)
    assert v.build_birth_date(2000, 2, 29, TODAY) == date(2000, 2, 29)
    assert v.build_birth_date(2020, 5, 4, TODAY) == date(2020, 5, 4)


@pytest.mark.parametrize(
    ("birth", "today", "age", "minor"),
    [
        (date(2008, 5, 4), date(2026, 5, 3), 17, True),  # the day before the 18th birthday
        (date(2008, 5, 4), date(2026, 5, 4), 18, False),  # exactly on the birthday
        (date(2008, 5, 4), date(2026, 5, 5), 18, False),
        (date(1990, 12, 31), date(2026, 1, 1), 35, False),
        (date(1990, 1, 1), date(2025, 12, 31), 35, False),
        # Born on 29 February: a year older on 1 March in common years.
        (date(2008, 2, 29), date(2026, 2, 28), 17, True),
        (date(2008, 2, 29), date(2026, 3, 1), 18, False),
        (date(2008, 2, 29), date(2028, 2, 28), 19, False),
        (date(2008, 2, 29), date(2028, 2, 29), 20, False),
        (date(2020, 5, 4), date(2020, 5, 4), 0, True),
    ],
)
def test_age_on_and_is_minor(birth: date, today: date, age: int, minor: bool) -> None:
    assert v.age_on(birth, today) == age
    assert v.is_minor(birth, today) is minor


def test_age_on_before_birth_is_negative() -> None:
    assert v.age_on(date(2026, 5, 5), date(2026, 5, 4)) == -1


def test_age_constants() -> None:
    assert (v.MIN_AGE, v.ADULT_AGE, v.MAX_AGE) == (6, 18, 100)


# --- resident ID numbers -------------------------------------------------------------------------


def reference_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 written from its definition: weights 2**(17-i) mod 11."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(address: str, birth: str, sequence: str) -> str:
    first17 = address + birth + sequence
    assert len(first17) == 17
    return first17 + reference_check_character(first17)


def wrong_check_character(number: str) -> str:
    right = number[17]
    wrong = next(c for c in "0123456789X" if c != right)
    return number[:17] + wrong


def test_reference_algorithm_matches_published_examples() -> None:
    # The example from GB 11643-1999 and a commonly quoted specimen.
    assert reference_check_character("11010519491231002") == "X"
    assert reference_check_character("44052418800101001") == "4"


SPECIMEN_ID = "11010519491231002X"
LEAP_DAY_ID = make_id("650102", "20000229", "456")
VALID_IDS = [
    SPECIMEN_ID,
    make_id("310104", "19900504", "123"),
    LEAP_DAY_ID,
    make_id("510107", "20100101", "001"),
    make_id("110101", TODAY.strftime("%Y%m%d"), "999"),
]


@pytest.mark.parametrize("number", VALID_IDS)
def test_normalize_cn_id_number_accepts(number: str) -> None:
    assert v.normalize_cn_id_number(number, TODAY) == number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),
        ("1101 0519 4912 3100 2X", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ],
)
def test_normalize_cn_id_number_normalizes(text: str, expected: str) -> None:
    assert v.normalize_cn_id_number(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "message", "params"),
    [
        ("", v.ID_EMPTY, {}),
        ("   ", v.ID_EMPTY, {}),
        ("11010519491231002", v.ID_LENGTH, {"length": 17}),
        ("110105194912310", v.ID_LENGTH, {"length": 15}),  # first-generation cards
        ("11010519491231002X1", v.ID_LENGTH, {"length": 19}),
        ("1101051949123100XX", v.ID_CHARACTERS, {}),
        ("X10105194912310021", v.ID_CHARACTERS, {}),
        ("11010519491231002Y", v.ID_CHARACTERS, {}),
        ("110105-19491231-02", v.ID_CHARACTERS, {}),
        ("11010519491231002\x1f", v.ID_CHARACTERS, {}),
        (wrong_check_character("11010519491231002X"), v.ID_CHECK_DIGIT, {}),
        (wrong_check_character(LEAP_DAY_ID), v.ID_CHECK_DIGIT, {}),
        ("11010519491231003X", v.ID_CHECK_DIGIT, {}),  # one digit mistyped
        ("11010519941231002X", v.ID_CHECK_DIGIT, {}),  # two digits swapped
        (make_id("110105", "19900230", "123"), v.ID_BIRTH_DATE, {}),
        (make_id("110105", "20230229", "123"), v.ID_BIRTH_DATE, {}),
        (make_id("110105", "19901301", "123"), v.ID_BIRTH_DATE, {}),
        (make_id("110105", "19900000", "123"), v.ID_BIRTH_DATE, {}),
        (make_id("110105", "20260505", "123"), v.ID_BIRTH_DATE, {}),  # in the future
        (make_id("110105", "18991231", "123"), v.ID_BIRTH_DATE, {}),
    ],
)
def test_normalize_cn_id_number_rejects(text: str, message: str, params: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        v.normalize_cn_id_number(text, TODAY)
    check_error(caught.value, message, params)
    # The number must never travel with the error (errors may be logged).
    digits = "".join(c for c in text if c.isdigit())
    rendered = f"{caught.value} {caught.value!r} {caught.value.args!r}"
    if len(digits) >= 6:
        assert digits[:6] not in rendered
        assert digits[-6:] not in rendered
    assert all(isinstance(value, int) for value in caught.value.params.values())


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010519491231002X", date(1949, 12, 31)),
        ("440524188001010014", date(1880, 1, 1)),
        (LEAP_DAY_ID, date(2000, 2, 29)),
        ("11010519491231002x", date(1949, 12, 31)),
    ],
)
def test_birth_date_from_id(number: str, expected: date) -> None:
    assert v.birth_date_from_id(number) == expected


def test_birth_date_from_id_rejects_malformed_numbers() -> None:
    with expect_invalid(v.ID_LENGTH, {"length": 5}):
        v.birth_date_from_id("12345")
    with expect_invalid(v.ID_BIRTH_DATE):
        v.birth_date_from_id(make_id("110105", "19900230", "123"))


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010519491231002X", "110***********002X"),
        ("440524188001010014", "440***********0014"),
        ("12345678", "123*5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, expected: str) -> None:
    masked = v.mask_id_number(number)
    assert masked == expected
    assert len(masked) == len(number)


def test_masking_hides_the_birth_date() -> None:
    masked = v.mask_id_number("11010519491231002X")
    assert "1949" not in masked
    assert "1231" not in masked


# --- residence areas -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("朝阳区望京街道", "朝阳区望京街道"),
        ("  朝阳区   望京街道 ", "朝阳区 望京街道"),
        ("海淀区（中关村）", "海淀区(中关村)"),
        ("海淀区(中关村)", "海淀区(中关村)"),
        ("望京街道3号楼", "望京街道3号楼"),
        ("１２３社区", "123社区"),
        ("伊犁・霍城", "伊犁·霍城"),
        ("浦东新区-陆家嘴", "浦东新区-陆家嘴"),
        ("Haidian District", "Haidian District"),
        ("Chao-Yang (Wangjing)", "Chao-Yang (Wangjing)"),
        ("西城", "西城"),
        ("区" * 40, "区" * 40),
    ],
)
def test_normalize_area_text_accepts(text: str, expected: str) -> None:
    assert v.normalize_area_text(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "params"),
    [
        ("", v.AREA_EMPTY, {}),
        (" \n ", v.AREA_EMPTY, {}),
        ("区", v.AREA_LENGTH, {**AREA_LIMITS, "length": 1}),
        ("区" * 41, v.AREA_LENGTH, {**AREA_LIMITS, "length": 41}),
        ("望京😀", v.AREA_SYMBOLS, {}),
        ("朝阳区，望京", v.AREA_SYMBOLS, {}),
        ("朝阳区#3", v.AREA_SYMBOLS, {}),
        ("朝阳区\x07", v.TEXT_CONTROL_CHARACTER, {}),
        ("朝阳区\u202e望京", v.TEXT_CONTROL_CHARACTER, {}),
        ("http://x.cn", v.AREA_LINK, {}),
        ("朝阳 www.x.com", v.AREA_LINK, {}),
        ("@spam", v.AREA_LINK, {}),
    ],
)
def test_normalize_area_text_rejects(text: str, message: str, params: dict[str, object]) -> None:
    with expect_invalid(message, params):
        v.normalize_area_text(text)


# --- free text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "multiline", "expected"),
    [
        ("  会 急救、  驾驶 ", False, "会 急救、 驾驶"),
        ("I can drive.", False, "I can drive."),
        ("家庭🏠👨‍👩‍👧", False, "家庭🏠👨‍👩‍👧"),  # emoji (with joiners) are fine here
        ("，全角标点保留。", False, "，全角标点保留。"),  # no NFKC for free text
        ("a\tb", False, "a b"),
        ("\n ab \n", False, "ab"),
        ("第一行\n第二行", True, "第一行\n第二行"),
        ("line 1  \r\nline 2", True, "line 1\nline 2"),
        ("\n\n a\n\n\n\n\nb \n\n", True, "a\n\nb"),
        ("  indented\n  list", True, "indented\n  list"),
    ],
)
def test_clean_free_text_accepts(text: str, multiline: bool, expected: str) -> None:
    assert v.clean_free_text(text, min_length=2, max_length=50, multiline=multiline) == expected


@pytest.mark.parametrize(
    ("text", "multiline", "message", "params"),
    [
        ("", False, v.TEXT_TOO_SHORT, {"min": 2, "max": 10, "length": 0}),
        ("  a  ", False, v.TEXT_TOO_SHORT, {"min": 2, "max": 10, "length": 1}),
        ("十一个字十一个字十一个", False, v.TEXT_TOO_LONG, {"min": 2, "max": 10, "length": 11}),
        ("abcdef\nghij", True, v.TEXT_TOO_LONG, {"min": 2, "max": 10, "length": 11}),
        ("line 1\nline 2", False, v.TEXT_SINGLE_LINE, {}),
        ("hi\x07", True, v.TEXT_CONTROL_CHARACTER, {}),
        ("hi\x00there", False, v.TEXT_CONTROL_CHARACTER, {}),
        ("\x1fabc", False, v.TEXT_CONTROL_CHARACTER, {}),
        ("abc\u202edef", False, v.TEXT_CONTROL_CHARACTER, {}),
    ],
)
def test_clean_free_text_rejects(
    text: str, multiline: bool, message: str, params: dict[str, object]
) -> None:
    with expect_invalid(message, params):
        v.clean_free_text(text, min_length=2, max_length=10, multiline=multiline)


def test_clean_free_text_limits_are_inclusive() -> None:
    assert v.clean_free_text("ab", min_length=2, max_length=2) == "ab"
    assert v.clean_free_text("", min_length=0, max_length=5) == ""


@pytest.mark.parametrize(("min_length", "max_length"), [(-1, 5), (6, 5)])
def test_clean_free_text_rejects_bad_limits(min_length: int, max_length: int) -> None:
    with pytest.raises(ValueError, match="min_length") as caught:
        v.clean_free_text("text", min_length=min_length, max_length=max_length)
    assert not isinstance(caught.value, InvalidInput)


def test_printable_ascii_round_trips_through_free_text() -> None:
    text = string.printable.strip().replace("\n", "").replace("\r", "")
    text = text.replace("\t", "").replace("\x0b", "").replace("\x0c", "")
    assert v.clean_free_text(text, min_length=1, max_length=200) == text
