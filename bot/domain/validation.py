"""Validation of what a volunteer types while registering (no Telegram, no clock, no I/O).

Every function either returns the cleaned value or raises :class:`InvalidInput`. Its ``message``
is an English gettext msgid (marked with ``N_`` so it lands in the catalogs) that may contain
``str.format`` placeholders; ``params`` fills them in. A handler shows it with::

    t.gettext(error.message).format(**error.params)

Messages are short and say how to fix the input: many volunteers are older people on phones.
Resident ID numbers never appear in an error's ``params`` (errors may be logged).

The fields follow the basic information of 民政部令第67号 (Art. 5): 姓名, 出生日期, 身份证件号码,
居住区域, 联系方式; free text is for skills, descriptions and reasons.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Final

from bot.i18n import N_

__all__ = [
    "ADULT_AGE",
    "MAX_AGE",
    "MIN_AGE",
    "InvalidInput",
    "age_on",
    "birth_date_from_id",
    "build_birth_date",
    "clean_free_text",
    "contains_link",
    "format_phone_for_display",
    "is_minor",
    "mask_id_number",
    "normalize_area_text",
    "normalize_cn_id_number",
    "normalize_phone",
    "normalize_real_name",
    "parse_birth_date",
]

MIN_AGE: Final = 6
"""Younger than this is implausible for a volunteer (a mistyped year, most likely)."""
MAX_AGE: Final = 100
"""Older than this is implausible (a mistyped year, most likely)."""
ADULT_AGE: Final = 18
"""Age of majority in China (民法典 Art. 17): younger volunteers are minors."""

NAME_MIN_LENGTH: Final = 2
NAME_MAX_LENGTH: Final = 30
AREA_MIN_LENGTH: Final = 2
AREA_MAX_LENGTH: Final = 40
ID_NUMBER_LENGTH: Final = 18
ID_EARLIEST_BIRTH_YEAR: Final = 1900


class InvalidInput(ValueError):
    """What the user typed cannot be accepted; ``message`` is a msgid, ``params`` fill it in."""

    def __init__(self, message: str, params: Mapping[str, object] | None = None) -> None:
        self.message = message
        self.params: dict[str, object] = dict(params or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        # The English text, for logs and test output (never contains an ID number).
        try:
            return self.message.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.params!r})"

    def __reduce__(self) -> tuple[type[InvalidInput], tuple[str, dict[str, object]]]:
        return (type(self), (self.message, self.params))

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The message in the user's language, e.g. ``error.translate(t.gettext)``."""
        return gettext(self.message).format(**self.params)


# --- messages -------------------------------------------------------------------------------
# Shared by several fields.
TEXT_CONTROL_CHARACTER: Final = N_(
    "Your text contains an invisible special character. Please type it again by hand."
)

# Real name (姓名).
NAME_EMPTY: Final = N_("Please type your name.")
# TRANSLATORS: {min} is the fewest characters allowed, {length} how many the user typed.
NAME_TOO_SHORT: Final = N_(
    "A name has at least {min} characters; yours has {length}. Please type your full name."
)
# TRANSLATORS: {max} is the most characters allowed, {length} how many the user typed.
NAME_TOO_LONG: Final = N_(
    "A name has at most {max} characters; yours has {length}. Please shorten it."
)
NAME_DIGITS: Final = N_("Please type your name without digits.")
NAME_SYMBOLS: Final = N_("Please type your name with letters only, without emoji or symbols.")
NAME_LINK: Final = N_("Please type your name, not a link or @username.")
NAME_SEPARATORS: Final = N_(
    "Please start and end your name with a letter, with a single space, ·, - or ' between "
    "its parts."
)

# Phone number (联系方式).
PHONE_EMPTY: Final = N_("Please type your phone number.")
PHONE_NOT_A_NUMBER: Final = N_(
    "That is not a phone number. Please type digits only, for example 138 1234 5678."
)
# TRANSLATORS: {count} is how many digits the user typed.
PHONE_INVALID: Final = N_(
    "That number is not valid. Please check the digits: a mobile number in China has 11 "
    "digits; you typed {count}."
)

# Date of birth (出生日期).
BIRTH_DATE_FORMAT: Final = N_(
    "Please type your date of birth as year-month-day, for example 1990-05-04 or 1990年5月4日."
)
BIRTH_DATE_MONTH: Final = N_("There is no month {month}. Please type a month from 1 to 12.")
# TRANSLATORS: e.g. "Month 2 of 1990 has only 28 days, so day 30 does not exist."
BIRTH_DATE_DAY: Final = N_(
    "Month {month} of {year} has only {days} days, so day {day} does not exist. "
    "Please check the date."
)
BIRTH_DATE_FUTURE: Final = N_("That date is in the future. Please type your date of birth.")
# TRANSLATORS: {age} is the age the typed date gives, {max} the oldest accepted age.
BIRTH_DATE_TOO_OLD: Final = N_(
    "That date makes you {age} years old, older than {max}. Please check the year."
)
# TRANSLATORS: {age} is the age the typed date gives, {min} the youngest accepted age.
BIRTH_DATE_TOO_YOUNG: Final = N_(
    "That date makes you {age} years old; volunteers must be at least {min}. Please check the year."
)

# Resident ID number (身份证件号码). Never put the number, or any part of it, in params.
ID_EMPTY: Final = N_("Please type your ID card number.")
# TRANSLATORS: {length} is how many characters the user typed (18 are needed).
ID_LENGTH: Final = N_("An ID card number has 18 characters; you typed {length}. Please check it.")
ID_CHARACTERS: Final = N_(
    "An ID card number has only digits, and the last character may be X. Please check it."
)
ID_CHECK_DIGIT: Final = N_(
    "This ID card number has a mistake in it. Please check each character again."
)
ID_BIRTH_DATE: Final = N_(
    "The date of birth inside this ID card number is impossible. Please check the digits."
)

# Residence area (居住区域).
AREA_EMPTY: Final = N_("Please type your district or community.")
# TRANSLATORS: {min} and {max} are the allowed lengths, {length} what the user typed.
AREA_LENGTH: Final = N_("An area name has {min}–{max} characters; yours has {length}.")
AREA_SYMBOLS: Final = N_(
    "Please use only letters, digits, spaces and · - ( ) in the area name, "
    "without emoji or symbols."
)
AREA_LINK: Final = N_("Please type the name of your area, not a link or @username.")

# Free text (skills, descriptions, reasons).
TEXT_SINGLE_LINE: Final = N_("Please type this on a single line.")
# TRANSLATORS: {min} is the fewest characters allowed, {length} how many the user typed.
TEXT_TOO_SHORT: Final = N_("Please write at least {min} characters; you wrote {length}.")
# TRANSLATORS: {max} is the most characters allowed, {length} how many the user typed.
TEXT_TOO_LONG: Final = N_("Please keep it to at most {max} characters; you wrote {length}.")


# --- shared character handling --------------------------------------------------------------

# Invisible characters that sneak in with copy and paste: dropped silently.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))
# Bidirectional controls can disguise text (e.g. U+202E): rejected, though their category is Cf.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Middle dots people type in transliterated names (阿卜杜·热合曼), all stored as U+00B7.
_MIDDLE_DOTS = dict.fromkeys(map(ord, "\u2022\u2027\u2219\u22c5\u30fb\u2e31"), "\u00b7")
_HYPHENS = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_APOSTROPHES = dict.fromkeys(map(ord, "\u2018\u2019\u02bc\u0060"), "'")
# Whitespace, except the information separators U+001C–U+001F that str.isspace() counts too.
_WHITESPACE = re.compile(r"[^\S\x1c-\x1f]+")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"


# The two costly patterns (≈ 3.5 ms to compile) are compiled on first use: this module loads
# with every start, but names and links are checked only when someone types one (#14).
@functools.cache
def _space_between_han() -> re.Pattern[str]:
    return re.compile(rf"(?<=[{_HAN}]) (?=[{_HAN}])")


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_control(char: str) -> bool:
    """Control characters, lone surrogates and bidirectional overrides.

    Other format characters (Cf) such as the zero-width joiner stay allowed here: emoji
    sequences need them. Names and areas reject every Cf character themselves.
    """
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


def _one_line(text: str) -> str:
    """NFKC, without invisible characters, whitespace runs as one space, stripped."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _WHITESPACE.sub(" ", text).strip(" ")


_TLDS = (
    "com|net|org|info|biz|cn|hk|tw|mo|me|io|cc|co|tv|ru|uk|us|top|xyz|vip|club|site|online|"
    "shop|store|app|dev|link|live|pro|fun|ly|gg|gl|so|to"
)


@functools.cache
def _link() -> re.Pattern[str]:
    return re.compile(
        rf"""
        [a-z][a-z0-9+.-]*://                              # any scheme: http://, https://, tg://
        | (?<![a-z0-9])www\.                              # www.example
        | (?<![a-z0-9.])(?:t|telegram)\.(?:me|dog)/       # t.me/channel
        | (?<![a-z0-9_.@])@[a-z][a-z0-9_]{{2,31}}         # @username
        | (?<![a-z0-9.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![a-z0-9-])
        """,
        re.IGNORECASE | re.VERBOSE,
    )


def contains_link(text: str) -> bool:
    """Whether ``text`` has a web address, a Telegram link or an ``@username``.

    Full-width letters and the ideographic full stop (``ｗｗｗ。example。com``) are seen through.
    Bare domains count only with a common top-level domain, and an e-mail address counts
    because of its domain.
    """
    folded = unicodedata.normalize("NFKC", text).replace("\u3002", ".")
    return _link().search(folded) is not None


# --- real name ------------------------------------------------------------------------------

_NAME_SEPARATORS = frozenset(" ·-'")
_SPACE_AROUND_SEPARATOR = re.compile(r" ?([·\-']) ?")
_ADJACENT_SEPARATORS = re.compile(r"[ ·\-']{2}")


def normalize_real_name(text: str) -> str:
    """A person's real name (姓名) as it should be stored.

    NFKC (full-width letters become ordinary ones), surrounding whitespace stripped, inner
    whitespace collapsed to one space, middle dots (``•``, ``・``, ``‧`` …) unified to ``·``,
    curly apostrophes and dashes to ``'`` and ``-``; spaces next to a separator and between two
    Chinese characters (``张 三``) are dropped. The result has 2–30 characters: letters of any
    script (with their combining marks), separated by single spaces, ``·``, ``-`` or ``'``.
    """
    name = _one_line(text).translate(_MIDDLE_DOTS).translate(_HYPHENS).translate(_APOSTROPHES)
    name = _SPACE_AROUND_SEPARATOR.sub(r"\1", name)
    name = _space_between_han().sub("", name)
    if not name:
        raise InvalidInput(NAME_EMPTY)
    if contains_link(name):
        raise InvalidInput(NAME_LINK)
    has_symbol = has_digit = has_control = False
    previous_is_letter = False
    for char in name:
        category = unicodedata.category(char)
        is_letter = category.startswith("L") or (
            category in ("Mn", "Mc") and previous_is_letter and not _is_variation_selector(char)
        )
        if char in _NAME_SEPARATORS or is_letter:
            pass
        elif category.startswith("N"):
            has_digit = True
        elif category == "Cf" or _is_control(char):
            has_control = True
        else:  # symbols, punctuation, emoji, enclosing marks, unassigned code points
            has_symbol = True
        previous_is_letter = is_letter
    # An emoji sequence contains joiners (Cf) too: the symbol is what the user will recognize.
    if has_symbol:
        raise InvalidInput(NAME_SYMBOLS)
    if has_digit:
        raise InvalidInput(NAME_DIGITS)
    if has_control:
        raise InvalidInput(TEXT_CONTROL_CHARACTER)
    limits = {"min": NAME_MIN_LENGTH, "max": NAME_MAX_LENGTH, "length": len(name)}
    if len(name) < NAME_MIN_LENGTH:
        raise InvalidInput(NAME_TOO_SHORT, limits)
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(NAME_TOO_LONG, limits)
    if name[0] in _NAME_SEPARATORS or name[-1] in _NAME_SEPARATORS:
        raise InvalidInput(NAME_SEPARATORS)
    if _ADJACENT_SEPARATORS.search(name):
        raise InvalidInput(NAME_SEPARATORS)
    return name


# --- phone number ---------------------------------------------------------------------------

_PHONE_CHARACTERS = re.compile(r"[0-9+\-(). ]+")


def normalize_phone(text: str, default_region: str = "CN") -> str:
    """A phone number in E.164 (``+8613812345678``).

    Accepts spaces, dashes, dots, parentheses, ``+86``/``0086`` prefixes and full-width digits;
    without a country prefix the number is read as one from ``default_region``. Mobile and
    fixed-line numbers are both accepted, as long as ``phonenumbers`` finds them valid.
    """
    import phonenumbers  # ≈ 15 ms: loaded by the first number, not at start-up (#14)

    cleaned = _one_line(text).translate(_HYPHENS)
    if not cleaned:
        raise InvalidInput(PHONE_EMPTY)
    if not _PHONE_CHARACTERS.fullmatch(cleaned) or not any(c.isdigit() for c in cleaned):
        raise InvalidInput(PHONE_NOT_A_NUMBER)
    invalid = InvalidInput(PHONE_INVALID, {"count": sum(c.isdigit() for c in cleaned)})
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.NOT_A_NUMBER:
            raise InvalidInput(PHONE_NOT_A_NUMBER) from None
        raise invalid from None
    if not phonenumbers.is_valid_number(number):
        raise invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone_for_display(e164: str) -> str:
    """``+8613812345678`` → ``+86 138 1234 5678``; a value that does not parse is returned as is."""
    import phonenumbers  # ≈ 15 ms: loaded by the first number, not at start-up (#14)

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- date of birth --------------------------------------------------------------------------

_DATE_SEPARATED = re.compile(r"(\d{4}) ?([-/.]| ) ?(\d{1,2}) ?\2 ?(\d{1,2})")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_CHINESE = re.compile(r"(\d{4}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?[日号號]?")
_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def age_on(birth: date, today: date) -> int:
    """Completed years on ``today``; negative when ``birth`` is after ``today``.

    Someone born on 29 February becomes a year older on 1 March in common years.
    """
    return _age(birth.year, birth.month, birth.day, today)


def _age(year: int, month: int, day: int, today: date) -> int:
    return today.year - year - ((today.month, today.day) < (month, day))


def is_minor(birth: date, today: date) -> bool:
    """Under 18 on ``today`` (18 exactly on the 18th birthday is an adult)."""
    return age_on(birth, today) < ADULT_AGE


def build_birth_date(year: int, month: int, day: int, today: date) -> date:
    """The date picked with the year → month → day buttons, checked like a typed one."""
    if not 1 <= month <= 12:
        raise InvalidInput(BIRTH_DATE_MONTH, {"month": month})
    days = 29 if month == 2 and calendar.isleap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= days:
        raise InvalidInput(BIRTH_DATE_DAY, {"year": year, "month": month, "day": day, "days": days})
    if (year, month, day) > (today.year, today.month, today.day):
        raise InvalidInput(BIRTH_DATE_FUTURE)
    age = _age(year, month, day, today)
    if age > MAX_AGE:
        raise InvalidInput(BIRTH_DATE_TOO_OLD, {"age": age, "max": MAX_AGE})
    if age < MIN_AGE:
        raise InvalidInput(BIRTH_DATE_TOO_YOUNG, {"age": age, "min": MIN_AGE})
    return date(year, month, day)


def parse_birth_date(text: str, today: date) -> date:
    """A typed date of birth (出生日期).

    Accepted, also with full-width digits: ``1990-05-04``, ``1990-5-4``, ``1990/5/4``,
    ``1990.5.4``, ``1990 5 4``, ``19900504``, ``1990年5月4日`` (or ``号``). The year comes first;
    day-first forms are refused rather than guessed. The age on ``today`` must be 6–100.
    """
    cleaned = _one_line(text).translate(_HYPHENS)
    for pattern in (_DATE_CHINESE, _DATE_COMPACT):
        if match := pattern.fullmatch(cleaned):
            year, month, day = (int(part) for part in match.groups())
            return build_birth_date(year, month, day, today)
    if match := _DATE_SEPARATED.fullmatch(cleaned):
        return build_birth_date(
            int(match.group(1)), int(match.group(3)), int(match.group(4)), today
        )
    raise InvalidInput(BIRTH_DATE_FORMAT)


# --- resident ID number ---------------------------------------------------------------------

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARACTERS: Final = "10X98765432"
_ID_FORMAT = re.compile(r"\d{17}[\dX]")


def _id_check_character(first17: str) -> str:
    return _ID_CHECK_CHARACTERS[
        sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11
    ]


def _id_birth_date(number: str) -> date | None:
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _id_shape(text: str) -> str:
    number = _one_line(text).replace(" ", "").upper()
    if not number:
        raise InvalidInput(ID_EMPTY)
    if len(number) != ID_NUMBER_LENGTH:
        raise InvalidInput(ID_LENGTH, {"length": len(number)})
    if not _ID_FORMAT.fullmatch(number):
        raise InvalidInput(ID_CHARACTERS)
    return number


def normalize_cn_id_number(text: str, today: date) -> str:
    """An 18-character resident ID number (GB 11643-1999), upper-case, without spaces.

    The check character must match and the embedded date of birth (characters 7–14) must
    exist, be no earlier than 1900 and not after ``today``. The address code (first six
    digits) is not checked against the list of regions. Errors never carry the number.
    """
    number = _id_shape(text)
    if _id_check_character(number[:17]) != number[17]:
        raise InvalidInput(ID_CHECK_DIGIT)
    birth = _id_birth_date(number)
    if birth is None or birth > today or birth.year < ID_EARLIEST_BIRTH_YEAR:
        raise InvalidInput(ID_BIRTH_DATE)
    return number


def birth_date_from_id(id_number: str) -> date:
    """The date of birth inside an ID number, best one from :func:`normalize_cn_id_number`."""
    number = _id_shape(id_number)
    birth = _id_birth_date(number)
    if birth is None:
        raise InvalidInput(ID_BIRTH_DATE)
    return birth


def mask_id_number(id_number: str) -> str:
    """Shows the first 3 and last 4 characters: ``110***********002X``.

    The province/city prefix and the sequence number plus check character stay visible, enough
    for a person to recognize their own card; the district and the date of birth are hidden.
    A value of 7 characters or fewer is masked entirely.
    """
    if len(id_number) <= 7:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


# --- residence area -------------------------------------------------------------------------

_AREA_PUNCTUATION = frozenset(" ·-()")


def normalize_area_text(text: str) -> str:
    """A typed residence area (居住区域), e.g. ``朝阳区望京街道`` or ``Haidian District``.

    Normalized like a name (NFKC, so ``（）`` become ``()``; one space between words; middle
    dots unified); 2–40 letters, digits, spaces, ``·``, ``-`` and parentheses.
    """
    area = _one_line(text).translate(_MIDDLE_DOTS).translate(_HYPHENS)
    if not area:
        raise InvalidInput(AREA_EMPTY)
    if contains_link(area):
        raise InvalidInput(AREA_LINK)
    has_symbol = has_control = False
    previous_is_base = False
    for char in area:
        category = unicodedata.category(char)
        is_base = category[0] in "LN" or (
            category in ("Mn", "Mc") and previous_is_base and not _is_variation_selector(char)
        )
        if char in _AREA_PUNCTUATION or is_base:
            pass
        elif category == "Cf" or _is_control(char):
            has_control = True
        else:
            has_symbol = True
        previous_is_base = is_base
    if has_symbol:
        raise InvalidInput(AREA_SYMBOLS)
    if has_control:
        raise InvalidInput(TEXT_CONTROL_CHARACTER)
    if not AREA_MIN_LENGTH <= len(area) <= AREA_MAX_LENGTH:
        raise InvalidInput(
            AREA_LENGTH, {"min": AREA_MIN_LENGTH, "max": AREA_MAX_LENGTH, "length": len(area)}
        )
    return area


# --- free text ------------------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[^\S\n\x1c-\x1f]+")
_TRAILING_SPACES = re.compile(r"[^\S\n\x1c-\x1f]+$", re.MULTILINE)
# Like str.strip(), but leaving U+001C–U+001F to the control-character check.
_EDGE_SPACES = re.compile(r"^[^\S\x1c-\x1f]+|[^\S\x1c-\x1f]+$")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def clean_free_text(text: str, *, min_length: int, max_length: int, multiline: bool = False) -> str:
    """Descriptions, skills, reasons: stripped, checked for control characters and length.

    No NFKC here (it would turn Chinese full-width punctuation into ASCII); emoji are fine.
    Tabs become spaces and ``\\r\\n`` becomes ``\\n``. Single-line text has its whitespace runs
    collapsed and may not contain a line break; multiline text keeps its line breaks, loses
    trailing spaces on each line and keeps at most one empty line in a row. Lengths count
    characters after cleaning, ``min_length`` ≤ length ≤ ``max_length``.
    """
    if not 0 <= min_length <= max_length:
        raise ValueError(f"need 0 <= min_length <= max_length, got {min_length}, {max_length}")
    cleaned = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    cleaned = _LINE_BREAKS.sub("\n", cleaned).replace("\t", " ")
    if multiline:
        cleaned = _BLANK_LINES.sub("\n\n", _TRAILING_SPACES.sub("", cleaned))
    else:
        cleaned = _SPACES.sub(" ", cleaned)
    cleaned = _EDGE_SPACES.sub("", cleaned)
    if not multiline and "\n" in cleaned:
        raise InvalidInput(TEXT_SINGLE_LINE)
    if any(_is_control(char) and char != "\n" for char in cleaned):
        raise InvalidInput(TEXT_CONTROL_CHARACTER)
    limits = {"min": min_length, "max": max_length, "length": len(cleaned)}
    if len(cleaned) < min_length:
        raise InvalidInput(TEXT_TOO_SHORT, limits)
    if len(cleaned) > max_length:
        raise InvalidInput(TEXT_TOO_LONG, limits)
    return cleaned
