"""Languages: gettext catalogs (Babel), language resolution and locale-aware formatting.

Message ids in the code are English sentences; ``locales/<lang>/LC_MESSAGES/messages.po`` hold
the Chinese and English texts. The catalogs are compiled in memory at start-up, so there are no
build artefacts to forget. ``python -m bot.catalogs check`` (run in CI) fails when a message in
the code is missing from a catalog or untranslated.
"""

from __future__ import annotations

import contextlib
import gettext
import hashlib
import importlib.util
import io
import os
import struct
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from functools import cache, lru_cache
from pathlib import Path

import babel
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from bot.clock import Clock, system_clock
from bot.domain.users import Language

DOMAIN = "messages"

# Babel locale used for each supported language (plural rules, date formats).
BABEL_LOCALES: Mapping[Language, str] = {Language.ZH: "zh_Hans_CN", Language.EN: "en"}

# Names shown in the language picker, each in its own language.
LANGUAGE_NAMES: Mapping[Language, str] = {Language.ZH: "简体中文", Language.EN: "English"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (translated where shown)."""
    return message


@cache
def locales_root() -> Path:
    """The ``locales`` folder, shipped as a namespace package (it holds no code).

    ``importlib.resources`` cannot open a namespace package under an editable install on
    Python 3.11, so look through its search path for the folder that has the catalogs.
    """
    spec = importlib.util.find_spec("locales")
    for entry in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(entry)
        if (candidate / f"{DOMAIN}.pot").is_file():
            return candidate
    raise RuntimeError("the locales folder with the translation catalogs is not installed")


def catalog_path(language: Language) -> Path:
    return locales_root() / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(po: bytes, language: Language) -> bytes:
    # Only when a catalog is compiled (a cache miss): not on every start (#14).
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(po), locale=BABEL_LOCALES[language], domain=DOMAIN)
    buffer = io.BytesIO()
    # Fuzzy entries are not shown to users: an unreviewed guess is worse than the English text.
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _compiled_cache() -> Path:
    """Where compiled catalogs are kept between starts: the user's cache folder."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "zhiyuan" / "catalogs"


@cache
def _translations(language: Language) -> gettext.NullTranslations:
    """The catalog, compiled from its ``.po`` in memory. Parsing the ``.po`` takes ~25 ms a
    language, so the result is kept in the user's cache folder under a hash of the ``.po``'s
    bytes (issue #14, start-up): an edited catalog is compiled afresh, and an unwritable or
    damaged cache only costs the compilation."""
    po = catalog_path(language).read_bytes()
    key = hashlib.sha256(po + f"{babel.__version__}:nofuzzy".encode()).hexdigest()[:24]
    cached = _compiled_cache() / f"{language.value}-{key}.mo"
    try:
        return gettext.GNUTranslations(io.BytesIO(cached.read_bytes()))
    except (OSError, ValueError, struct.error):  # none yet, unreadable or damaged
        pass
    mo = _compile(po, language)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        temporary.write_bytes(mo)
        os.replace(temporary, cached)  # atomic: processes starting together never see half
    return gettext.GNUTranslations(io.BytesIO(mo))


def resolve_language(
    chosen: Language | None, telegram_code: str | None, default: Language
) -> Language:
    """The user's own choice wins; else Telegram's IETF tag (any ``zh*`` → Chinese, any other
    tag → English); else the deployment default."""
    if chosen is not None:
        return chosen
    if telegram_code:
        return Language.ZH if telegram_code.strip().lower().startswith("zh") else Language.EN
    return default


class Translator:
    """Texts and formats for one language in one time zone.

    Handlers get one per update (``context.t``); notifications build one for the recipient at
    send time. ``clock`` is the application's clock: a date shows its year only when it is not
    the current year, so "this year" must follow the same (injectable) time as everything else.
    """

    def __init__(self, language: Language, timezone: tzinfo, clock: Clock = system_clock) -> None:
        self.language = language
        self.timezone = timezone
        self.clock = clock
        self.locale = Locale.parse(BABEL_LOCALES[language])
        self._catalog = _translations(language)

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self._catalog.pgettext(context, message)

    def format_datetime(self, value: datetime, fmt: str = "medium") -> str:
        """An aware datetime shown in the deployment's time zone."""
        return babel_dates.format_datetime(value, fmt, tzinfo=self.timezone, locale=self.locale)

    def format_date(self, value: date | datetime, fmt: str = "medium") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.timezone).date()
        return babel_dates.format_date(value, fmt, locale=self.locale)

    def format_time(self, value: time | datetime, fmt: str = "short") -> str:
        if isinstance(value, datetime):
            return babel_dates.format_time(value, fmt, tzinfo=self.timezone, locale=self.locale)
        return babel_dates.format_time(value, fmt, locale=self.locale)

    def labelled(self, label: str, value: str) -> str:
        """A form's line "<b>Name:</b> Zhang" / "<b>姓名：</b>张" (HTML): ``label`` is the
        untranslated message id (marked with ``N_``), ``value`` is shown as given. One message
        for the whole line, so each language punctuates it its own way."""
        return self.gettext("<b>{label}:</b> {value}").format(
            label=self.gettext(label), value=value
        )

    # Every date a person reads goes through format_day / format_moment / format_span, so the
    # year rule and the weekday punctuation are decided here once.

    def format_month(self, year: int, month: int) -> str:
        """ "December 2026" / "2026年12月" (the locale's own order, never "十二月 2026")."""
        return babel_dates.format_skeleton("yMMMM", date(year, month, 1), locale=self.locale)

    def format_day(self, value: date | datetime, *, year: bool | None = None) -> str:
        """ "Sun, Dec 6" / "12月6日（周日）", with the year ("Sun, Dec 6, 2027" /
        "2027年12月6日（周日）") when the day is not in the current year in the deployment's
        time zone, or always with ``year=True`` (documents people keep)."""
        if isinstance(value, datetime):
            value = value.astimezone(self.timezone).date()
        if year is None:
            year = value.year != self.clock().astimezone(self.timezone).year
        day = _skeleton("yMMMd" if year else "MMMd", value, None, self.locale)
        weekday = _weekday(value, self.locale)
        # TRANSLATORS: a date with its weekday, e.g. "Sun, Dec 6" / "12月6日（周日）".
        pattern = self.pgettext("date with weekday", "{weekday}, {date}")
        return pattern.format(weekday=weekday, date=day)

    def format_moment(self, value: datetime, *, year: bool | None = None) -> str:
        """ "Sun, Dec 6 14:00" / "12月6日（周日）14:00" (the year as in ``format_day``)."""
        # TRANSLATORS: a date and a time of day, e.g. "Sun, Dec 6 14:00" / "12月6日（周日）14:00".
        pattern = self.pgettext("date and time", "{date} {time}")
        return pattern.format(date=self.format_day(value, year=year), time=self.format_clock(value))

    def format_span(self, start: datetime, end: datetime, *, year: bool | None = None) -> str:
        """ "12月21日（周一）14:00–16:00": the date once when both ends fall on one local day,
        "12月21日（周一）22:00 – 12月22日（周二）02:00" when they do not."""
        if start.astimezone(self.timezone).date() == end.astimezone(self.timezone).date():
            return f"{self.format_moment(start, year=year)}–{self.format_clock(end)}"
        return f"{self.format_moment(start, year=year)} – {self.format_moment(end, year=year)}"

    def format_clock(self, value: datetime) -> str:
        """The time of day on a 24-hour clock, in the deployment's time zone: "23:00"."""
        return _skeleton("Hm", value, self.timezone, self.locale)

    def format_number(self, value: float) -> str:
        return babel_numbers.format_decimal(value, locale=self.locale)


# Babel works a pattern out on every call; a list screen formats a day and a time for each of
# its ten activities, mostly the same ones again for the next person (issue #14). The results
# depend only on the arguments.
@lru_cache(maxsize=8192)
def _skeleton(skeleton: str, value: date | datetime, tz: tzinfo | None, locale: Locale) -> str:
    return babel_dates.format_skeleton(skeleton, value, tzinfo=tz, locale=locale)


@lru_cache(maxsize=2048)
def _weekday(value: date, locale: Locale) -> str:
    return babel_dates.format_date(value, "EEE", locale=locale)


@cache
def translator(language: Language, timezone: tzinfo, clock: Clock = system_clock) -> Translator:
    return Translator(language, timezone, clock)
