"""Settings read from the environment (and an optional ``.env`` file) with pydantic-settings.

A missing or malformed setting must end the program with one clear line naming the variable
(see :func:`load_settings`), never a traceback: the people running this are volunteer
federations' IT staff, not Python developers.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.hours import RoundingRule
from bot.domain.users import Language

EXIT_CONFIG_ERROR = 2

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """``"24h"`` → 24 hours. Units: s, m, h, d."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 24h, 90m or 2d")
    amount, unit = match.groups()
    return timedelta(**{_DURATION_UNITS[unit]: int(amount)})


#: Every single-duration setting (typed like "30m", "2h", "14d"): shortest, longest, and what
#: to say otherwise. One table, one parser and one check instead of a pair of validators per
#: feature.
_SPANS: dict[str, tuple[timedelta, timedelta, str]] = {
    "cancel_cutoff": (
        timedelta(0),
        timedelta(days=30),
        "must be between 0 and 30 days, e.g. 2h or 12h",
    ),
    "offer_window": (
        timedelta(0),
        timedelta(days=30),
        "must be between 0 and 30 days, e.g. 2h or 12h",
    ),
    "key_date_heads_up": (
        timedelta(seconds=1),
        timedelta(days=60),
        "must be between 1s and 60 days, e.g. 48h or 14d",
    ),
    "understaffed_lead": (
        timedelta(seconds=1),
        timedelta(days=60),
        "must be between 1s and 60 days, e.g. 48h or 14d",
    ),
    "invite_cooldown": (
        timedelta(seconds=1),
        timedelta(days=60),
        "must be between 1s and 60 days, e.g. 48h or 14d",
    ),
    "org_invite_ttl": (
        timedelta(seconds=1),
        timedelta(days=60),
        "must be between 1s and 60 days, e.g. 48h or 14d",
    ),
    "checkin_opens_before": (
        timedelta(0),
        timedelta(hours=24),
        "must be between 0 and 24 hours, e.g. 30m or 1h",
    ),
    "checkin_closes_after": (
        timedelta(0),
        timedelta(hours=24),
        "must be between 0 and 24 hours, e.g. 30m or 1h",
    ),
    "no_show_window": (
        timedelta(days=1),
        timedelta(days=730),
        "must be between 1 and 730 days, e.g. 90d",
    ),
    "request_accept_timeout": (
        timedelta(minutes=1),
        timedelta(days=7),
        "must be between 1 minute and 7 days, e.g. 2h or 30m",
    ),
    "request_urgent_escalation": (
        timedelta(minutes=1),
        timedelta(days=7),
        "must be between 1 minute and 7 days, e.g. 2h or 30m",
    ),
    "verify_window": (
        timedelta(seconds=10),
        timedelta(days=1),
        "must be between 10s and 1 day, e.g. 1m or 15m",
    ),
    "verify_block": (
        timedelta(seconds=10),
        timedelta(days=1),
        "must be between 10s and 1 day, e.g. 1m or 15m",
    ),
    "emergency_wave_interval": (
        timedelta(seconds=30),
        timedelta(hours=1),
        "must be between 30s and 1h, e.g. 3m",
    ),
    "emergency_duration": (
        timedelta(minutes=30),
        timedelta(hours=24),
        "must be between 30m and 24h, e.g. 4h",
    ),
}


class Settings(BaseSettings):
    """Everything an operator can configure. Field names map to upper-case variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # Required by ``zhiyuan run`` only (``migrate`` and the playground work without one).
    bot_token: SecretStr | None = Field(default=None, description="From @BotFather; never logged.")
    bot_api_url: str = Field(
        default="https://api.telegram.org",
        description="Base URL of a Bot API server; requests go to {BOT_API_URL}/bot{token}/{m}.",
    )
    database_path: Path = Field(default=Path("data/zhiyuan.sqlite3"))
    # PostgreSQL for several instances (``postgresql://user:password@host/db``); when set it
    # is used instead of ``DATABASE_PATH``. Never logged with its password.
    database_url: SecretStr | None = Field(default=None)
    # SQLite's page cache per connection (the bot holds two; issue #14). Its own 2 MB holds
    # little of a city's database (≈ 200 MB), whose pages were then read again and again from
    # the operating system (bench.menu's "For you": 3.5 → 3.2 ms with 64 MB).
    sqlite_cache_mb: int = Field(default=64, ge=2, le=4096)
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default=frozenset())
    timezone: str = Field(default="Asia/Shanghai")
    default_language: Language = Field(default=Language.ZH)
    log_level: LogLevel = Field(default="INFO")
    # Ask volunteers for their resident ID number (GB 11643) during registration; off by
    # default because matching does not need it and it is the most sensitive field.
    require_id_number: bool = Field(default=False)
    # Updates of one user run in order; this many different users' updates may run at once.
    concurrent_users: int = Field(default=64, ge=1, le=4096)
    # Volunteers may cancel a confirmed sign-up until this long before the start ("2h").
    cancel_cutoff: timedelta = Field(default=timedelta(hours=2))
    # How long a waitlisted volunteer has to accept a freed spot ("12h"); shorter when the
    # activity is near (half the time left before sign-up closes).
    offer_window: timedelta = Field(default=timedelta(hours=12))
    # How often the delivery job looks for due notifications and expired offers.
    outbox_interval_seconds: float = Field(default=2.0, gt=0, le=300)

    # Delivery pacing (Telegram allows about 30 messages per second overall, about 1 per second
    # into one chat and 20 per minute into one group; we stay below). Bulk sends are spaced at
    # this rate and never booked where answers and bulk together would pass 28 in one second
    # (bot.delivery.Pacer), so 28 is the most bulk can use.
    send_rate_per_second: float = Field(default=28.0, gt=0, le=28)
    chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    group_messages_per_minute: int = Field(default=20, ge=1, le=20)
    # Reminders before an activity starts ("24h,2h"); the longest one asks "Still coming?".
    reminder_offsets: Annotated[tuple[timedelta, ...], NoDecode] = Field(
        default=(timedelta(hours=24), timedelta(hours=2))
    )
    # Key-date campaigns: volunteers hear this long before a key date ("7d,1d"); organizers get
    # a heads-up KEY_DATE_HEADS_UP before it; campaign messages go out at CAMPAIGN_TIME (local).
    campaign_offsets: Annotated[tuple[timedelta, ...], NoDecode] = Field(
        default=(timedelta(days=7), timedelta(days=1))
    )
    key_date_heads_up: timedelta = Field(default=timedelta(days=14))
    campaign_time: str = Field(default="10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # The weekly digest: ISO weekday (1 = Monday … 5 = Friday) and local time.
    digest_weekday: int = Field(default=5, ge=1, le=7)
    digest_time: str = Field(default="19:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Under-staffed alert: this long before the start, organizers of activities filled below
    # the threshold (a fraction of capacity) are told and offered "Find volunteers".
    understaffed_lead: timedelta = Field(default=timedelta(hours=48))
    understaffed_threshold: float = Field(default=0.5, ge=0, le=1)
    # Recruiting: how many volunteers one "Invite" press reaches, the most per activity per
    # day, and how long a volunteer is left alone after an invitation.
    invite_batch_size: int = Field(default=20, ge=1, le=200)
    invite_daily_cap: int = Field(default=200, ge=1, le=1000)
    invite_cooldown: timedelta = Field(default=timedelta(days=7))
    # How long a co-organizer invitation link stays valid.
    org_invite_ttl: timedelta = Field(default=timedelta(hours=72))
    # Webhook mode (``zhiyuan run --webhook``): Telegram posts updates to WEBHOOK_URL (the public
    # HTTPS address of a load balancer in front of the instances) with WEBHOOK_SECRET in a header;
    # each instance listens on WEBHOOK_HOST:WEBHOOK_PORT at WEBHOOK_PATH and serves /healthz.
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    webhook_secret: SecretStr | None = Field(default=None)
    webhook_host: str = Field(default="127.0.0.1")
    webhook_port: int = Field(default=8443, ge=0, le=65535)
    webhook_path: str = Field(default="/telegram", pattern=r"^/[A-Za-z0-9/_-]{0,100}$")
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    # This instance's name among several (defaults to the host, plus the webhook port); kept
    # across restarts so a restarted instance takes back the updates it had begun at once.
    instance_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    # How long an update being handled stays leased to its instance (renewed while it runs):
    # after a crash another instance takes it over this much later.
    inbox_lease_seconds: float = Field(default=30.0, ge=1, le=600)
    # Polling mode: serve GET /healthz on WEBHOOK_HOST:HEALTH_PORT (0: off), 503 while the Bot
    # API cannot be reached or the database does not answer. Webhook mode serves it anyway.
    health_port: int = Field(default=0, ge=0, le=65535)
    # A reply that failed because the Bot API could not be reached is retried until this long
    # after its update was received (0: never); bot/api_retry.py says which failures and why.
    reply_retry_seconds: float = Field(default=300.0, ge=0, le=1800)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()):
            raise ValueError("16–256 characters of A-Z a-z 0-9 _ - (Telegram's rule)")
        return value

    # Service records (issue #16): the check-in window around an activity, the distance from
    # its pin beyond which a check-in is flagged, how minutes are rounded, the most hours one
    # day can count, and the no-show rule (this many within the window: sign-ups need an
    # explicit confirmation, and organizers see the count).
    checkin_opens_before: timedelta = Field(default=timedelta(minutes=30))
    checkin_closes_after: timedelta = Field(default=timedelta(hours=1))
    checkin_far_metres: int = Field(default=500, ge=50, le=100_000)
    hours_rounding: RoundingRule = Field(default=RoundingRule.HALF_HOUR)
    max_hours_per_day: int = Field(default=12, ge=1, le=24)
    no_show_limit: int = Field(default=3, ge=1, le=50)
    no_show_window: timedelta = Field(default=timedelta(days=90))

    # Service records within RECORDING_DEADLINE_DAYS working days of the activity (民政部令
    # 第67号 Art. 11): the organizers are reminded on these working days ("3,7,9") while the hours
    # are unconfirmed, at RECORDING_REMINDER_TIME (local), on working days only.
    recording_reminder_days: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(3, 7, 9),
        description="Working days after an activity on which organizers are reminded.",
    )
    recording_deadline_days: int = Field(
        default=10, ge=1, le=60, description="Working days within which hours are recorded."
    )
    recording_reminder_time: str = Field(
        default="09:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Local time of day at which recording reminders go out.",
    )
    # Recognition (issue #17). Star levels count as soon as the hours reach them, unless
    # STAR_APPLICATION is on: then the volunteer applies, the level is publicised for
    # STAR_PUBLICITY_DAYS and granted unless an administrator objects. Points per confirmed
    # hour of standard service (×1.5 skilled, ×2 demanding). How often confirmed hours are
    # turned into points and levels (the sweep is idempotent; a minute late is fine).
    star_application: bool = Field(default=False)
    star_publicity_days: int = Field(default=7, ge=1, le=60)
    points_per_hour: int = Field(default=1, ge=1, le=1000)
    recognition_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)

    # Resident requests (issue #19): a team that has not accepted a request this long after it
    # was sent is reminded, and after twice as long it goes to the next best organization (or
    # back to the dispatchers' queue); an urgent request nobody accepted this long after it
    # was ordered is escalated to the federation's administrators.
    request_accept_timeout: timedelta = Field(default=timedelta(hours=2))
    request_urgent_escalation: timedelta = Field(default=timedelta(minutes=30))

    # Certificates (证明出具, 民政部令第67号 Art. 14–17; bot.services.certificates). With
    # CERTIFICATE_APPROVAL the recording organization's managers approve each request first;
    # off by default, since the records were confirmed already. The federation's name is printed
    # as the issuer (English certificates use FEDERATION_NAME_EN). The PDF embeds a subset of
    # CERTIFICATE_FONT (a TTF, OTF or TTC with Chinese; Debian's fonts-wqy-microhei by default).
    certificate_approval: bool = Field(default=False)
    federation_name: str = Field(default="志愿者联合会", min_length=2, max_length=60)
    federation_name_en: str = Field(default="Volunteer Federation", min_length=2, max_length=80)
    certificate_font: Path = Field(default=Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))
    # Verifying codes: after VERIFY_MAX_FAILURES wrong codes within VERIFY_WINDOW, a user may
    # not verify for VERIFY_BLOCK ("1m", "15m"): a code has 144 random bits, this only keeps
    # a script from hammering the database.
    verify_max_failures: int = Field(default=5, ge=1, le=100)
    verify_window: timedelta = Field(default=timedelta(minutes=1))
    verify_block: timedelta = Field(default=timedelta(minutes=15))

    # Reports (issue #18): during a campaign period the statistics table goes out every
    # REPORT_WEEKDAY (ISO, 5 = Friday) at REPORT_TIME (local); organizations missing figures are
    # reminded the day before at the same time. STATS_POPULATION: inhabitants of the area the
    # federation serves, for the participation rate in /stats (0: not shown).
    report_weekday: int = Field(default=5, ge=1, le=7)
    report_time: str = Field(default="10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    stats_population: int = Field(default=0, ge=0, le=2_000_000_000)

    @field_validator(*_SPANS, mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_duration(value)
        return value

    @field_validator(*_SPANS)
    @classmethod
    def _span(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        assert info.field_name is not None
        shortest, longest, message = _SPANS[info.field_name]
        if not shortest <= value <= longest:
            raise ValueError(message)
        return value

    @field_validator("reminder_offsets", "campaign_offsets", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in value.split(",") if part.strip()]
            if not parts:
                raise ValueError("give at least one duration, e.g. 24h,2h")
            return tuple(parse_duration(part) for part in parts)
        return value

    @field_validator("reminder_offsets", "campaign_offsets")
    @classmethod
    def _sorted_offsets(cls, value: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        if not value or any(offset <= timedelta(0) for offset in value):
            raise ValueError("every offset must be positive, e.g. 24h,2h")
        if len(set(value)) != len(value):
            raise ValueError("offsets must differ")
        if any(offset > timedelta(days=60) for offset in value):
            raise ValueError("offsets must be at most 60 days")
        return tuple(sorted(value, reverse=True))

    @field_validator("recording_reminder_days", mode="before")
    @classmethod
    def _working_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not parts or not all(re.fullmatch(r"\d{1,2}", part) for part in parts):
                raise ValueError("give working days as numbers, e.g. 3,7,9")
            return tuple(int(part) for part in parts)
        return value

    @field_validator("recording_reminder_days")
    @classmethod
    def _sorted_working_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 1 <= day <= 60 for day in value):
            raise ValueError("every day must be from 1 to 60, e.g. 3,7,9")
        if len(set(value)) != len(value):
            raise ValueError("days must differ")
        return tuple(sorted(value))

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value().strip()
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql://… URL (SQLite is chosen by DATABASE_PATH)")
        return SecretStr(url)

    @property
    def database_target(self) -> Path | str:
        """What :meth:`storage.db.Database.open` opens: the PostgreSQL URL, else the file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", secret):
            raise ValueError("must look like 123456:ABC-DEF… (as given by @BotFather)")
        return SecretStr(secret)

    @field_validator("bot_api_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            for part in parts:
                if not re.fullmatch(r"-?\d+", part):
                    raise ValueError(f"{part!r} is not a Telegram user id (comma-separated)")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("log_level", "default_language", mode="before")
    @classmethod
    def _fold_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return (
            value.upper()
            if value.lower() in {"debug", "info", "warning", "error", "critical"}
            else value.lower()
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Shanghai") from error
        return value

    @pydantic.model_validator(mode="after")
    def _reminders_before_deadline(self) -> Settings:
        if max(self.recording_reminder_days) > self.recording_deadline_days:
            raise ValueError("RECORDING_REMINDER_DAYS must all be at most RECORDING_DEADLINE_DAYS")
        return self

    # Emergency mobilization (bot.services.emergency): later waves go out this often while the
    # headcount is short, each widening the radius, up to the largest radius; the mobilization's
    # activity (check-in, hours) lasts this long from the rally time; the coordinator's live
    # headcount is edited at most once per EMERGENCY_EDIT_SECONDS (Telegram limits edits too).
    emergency_wave_interval: timedelta = Field(default=timedelta(minutes=3))
    emergency_max_radius_km: int = Field(default=50, ge=1, le=500)
    emergency_duration: timedelta = Field(default=timedelta(hours=4))
    emergency_edit_seconds: float = Field(default=2.0, ge=0.5, le=60)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The token, or :class:`ConfigError` when it is needed and missing."""
        if self.bot_token is None or not self.bot_token.get_secret_value():
            raise ConfigError("BOT_TOKEN is not set (get one from @BotFather)")
        return self.bot_token.get_secret_value()


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


def describe_validation_error(error: ValidationError) -> str:
    first = error.errors()[0]
    variable = str(first["loc"][0]).upper() if first["loc"] else "configuration"
    if first["type"] == "missing":
        return f"{variable} is not set"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{variable} is invalid: {message}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; raise :class:`ConfigError` with a one-line reason."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None
