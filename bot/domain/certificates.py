"""Certificates of volunteer service (证明出具, 民政部令第67号 Art. 14–17): the pure rules.

A certificate covers a volunteer's confirmed records — all of them or a period — and shows the
service hours, the service content and the recording unit(s) (Art. 15). It is free (Art. 14).
Anyone may verify it (Art. 17) by its random code, and sees only a masked name, the hours, the
issuer, the issue date and the status (Art. 16: no disclosure beyond what the check needs).

Why a stored random code rather than a signature over the contents: revocation needs the
database anyway, and a short random code fits a deep link (``cv_<code>``, 64 characters at most)
and can be typed after ``/verify``.

Nothing here does I/O: the service reads records and writes certificates
(:mod:`bot.services.certificates`), the PDF is drawn by :mod:`bot.certificate_pdf`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain.refusals import Refused
from bot.domain.service_records import ServiceRecord
from bot.domain.users import Language

#: Random bytes of a verification code: 18 bytes → 24 URL-safe characters (144 bits), far
#: beyond guessing even without the rate limit.
CODE_BYTES = 18
CODE_MIN_LENGTH = 16  # the CHECK of certificates.code
CODE_MAX_LENGTH = 40
#: ``cv_`` + the code is a /start payload: at most 64 characters of ``A-Za-z0-9_-``.
_CODE = re.compile(rf"[A-Za-z0-9_-]{{{CODE_MIN_LENGTH},{CODE_MAX_LENGTH}}}")
NUMBER_PREFIX = "ZY"
_NUMBER = re.compile(r"ZY-(\d{4})-(\d{6,})")
#: Up to this many records the PDF lists each one; above, a summary per recording unit.
MAX_LISTED_RECORDS = 18
#: Content summary: at most this many distinct kinds of service are named.
MAX_CONTENT_KINDS = 6


class CertificateStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the recording organization's approval
    ISSUED = "issued"  # valid
    REVOKED = "revoked"  # was valid; an administrator revoked it (with a reason)
    REJECTED = "rejected"  # the organization rejected the request (never valid)


class CertificateRefusal(StrEnum):
    NOT_VOLUNTEER = "not_volunteer"  # no volunteer profile
    NO_RECORDS = "no_records"  # nothing confirmed in the period
    PENDING = "pending"  # a request already waits for approval
    NOT_YOURS = "not_yours"  # someone else's certificate, or no such certificate
    DECIDED = "decided"  # approved, rejected or revoked already
    NOT_ISSUED = "not_issued"  # revoking something that is not valid
    TOO_MANY_TRIES = "too_many_tries"  # verification: too many wrong codes, wait until {when}


class CertificateRefused(Refused):
    def __init__(self, reason: CertificateRefusal, *, when: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason: CertificateRefusal = reason
        self.when = when


# -- codes and numbers -----------------------------------------------------------------------------


def new_code() -> str:
    """A fresh random verification code (24 characters of ``A-Za-z0-9_-``)."""
    return secrets.token_urlsafe(CODE_BYTES)


def clean_code(text: str) -> str | None:
    """A code as typed or scanned (spaces, a ``cv_`` prefix or the whole link tolerated), or
    ``None`` when it cannot be a code at all (which counts as a wrong guess)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = cleaned.rsplit("start=", 1)[-1].removeprefix("cv_")
    return cleaned if _CODE.fullmatch(cleaned) else None


def verification_payload(code: str) -> str:
    return f"cv_{code}"


def verification_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={verification_payload(code)}"


def certificate_number(issued_year: int, certificate_id: int) -> str:
    """``ZY-2026-000123``: the issue year and the row id (unique, since the id is)."""
    if certificate_id <= 0 or not 1000 <= issued_year <= 9999:
        raise ValueError(f"no certificate number for {issued_year}/{certificate_id}")
    return f"{NUMBER_PREFIX}-{issued_year:04d}-{certificate_id:06d}"


def is_certificate_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


# -- masking ---------------------------------------------------------------------------------------


def _is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def mask_name(name: str) -> str:
    """What a verifier sees of the holder's name: enough to match the paper, not to find them.

    Chinese names keep the family name's first character (``王小明`` → ``王**``); other names
    keep each word's initial (``Alice Chen`` → ``A*** C***``, a fixed length that does not
    tell the name's)."""
    name = " ".join(name.split())
    if not name:
        return "*"
    if _is_cjk(name[0]):
        letters = [char for char in name if not char.isspace()]
        return letters[0] + "*" * max(1, len(letters) - 1)
    return " ".join(word[0] + "***" for word in name.split(" "))


# -- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Service dates covered, both inclusive; :data:`ALL_RECORDS` when both are ``None``."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValueError("a period has both ends or none")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("a period ends after it starts")

    @property
    def is_all(self) -> bool:
        return self.start is None

    def covers(self, day: date) -> bool:
        if self.start is None or self.end is None:
            return True
        return self.start <= day <= self.end

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))


ALL_RECORDS = Period()

_PERIOD_SEPARATORS = re.compile(r"\s+(?:-|–|—|~|to|至|到)\s+|\s*[~～至到,，]\s*|\s+")


def split_period(text: str) -> tuple[str, str] | None:
    """``2025-01-01 2025-06-30`` / ``2025-01-01 至 2025-06-30`` / ``1/1 ~ 6/30`` → the two
    dates' texts, else ``None``. Each is then read by :func:`bot.domain.dateparse.parse_day`."""
    parts = [
        part
        for part in _PERIOD_SEPARATORS.split(unicodedata.normalize("NFKC", text).strip())
        if part
    ]
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


# -- the snapshot ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateLine:
    """One record as printed (Art. 7 fields the certificate needs)."""

    day: date
    activity: str
    unit: str
    minutes: int
    content: str


@dataclass(frozen=True)
class UnitTotal:
    """The summary table's row when there are too many records to list."""

    unit: str
    records: int
    minutes: int
    first: date
    last: date


@dataclass(frozen=True)
class CertificateSnapshot:
    """What the certificate says, fixed when it is issued."""

    lines: tuple[CertificateLine, ...]
    content_summary: str
    recording_units: tuple[str, ...]

    @property
    def total_minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def record_count(self) -> int:
        return len(self.lines)

    @property
    def first_day(self) -> date | None:
        return min((line.day for line in self.lines), default=None)

    @property
    def last_day(self) -> date | None:
        return max((line.day for line in self.lines), default=None)

    def unit_totals(self) -> list[UnitTotal]:
        by_unit: dict[str, list[CertificateLine]] = {}
        for line in self.lines:
            by_unit.setdefault(line.unit, []).append(line)
        totals = [
            UnitTotal(
                unit=unit,
                records=len(lines),
                minutes=sum(line.minutes for line in lines),
                first=min(line.day for line in lines),
                last=max(line.day for line in lines),
            )
            for unit, lines in by_unit.items()
        ]
        return sorted(totals, key=lambda total: (-total.minutes, total.unit))

    @property
    def lists_records(self) -> bool:
        return len(self.lines) <= MAX_LISTED_RECORDS

    def lines_json(self) -> str:
        return json.dumps(
            [
                {**asdict(line), "day": line.day.isoformat()}
                for line in sorted(self.lines, key=lambda x: (x.day, x.activity))
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @staticmethod
    def lines_from_json(text: str) -> tuple[CertificateLine, ...]:
        return tuple(
            CertificateLine(
                day=date.fromisoformat(item["day"]),
                activity=item["activity"],
                unit=item["unit"],
                minutes=int(item["minutes"]),
                content=item["content"],
            )
            for item in json.loads(text)
        )

    def fingerprint(self, masked_name: str, language: Language) -> str:
        """Equal for two requests that would print the same certificate."""
        text = "\n".join(
            (self.lines_json(), self.content_summary, "|".join(self.recording_units), masked_name)
        )
        return hashlib.sha256(f"{language.value}\n{text}".encode()).hexdigest()[:32]


def build_snapshot(
    records: Iterable[ServiceRecord],
    period: Period,
    content_names: Mapping[str, str],
    separator: str = "、",
) -> CertificateSnapshot:
    """The records of ``period`` with minutes, as a certificate prints them.

    ``content_names`` names service categories in the certificate's language; a record with
    no category shows its activity's description (cut to one line). The content summary names
    the kinds of service by hours, most first; the units are listed by hours too.
    """
    lines: list[CertificateLine] = []
    for record in records:
        if record.minutes <= 0 or not period.covers(record.service_date):
            continue
        if record.category_code and record.category_code in content_names:
            content = content_names[record.category_code]
        else:
            content = " ".join(record.content.split())[:40] or record.activity_title
        lines.append(
            CertificateLine(
                day=record.service_date,
                activity=record.activity_title,
                unit=record.organization_name,
                minutes=record.minutes,
                content=content,
            )
        )
    lines.sort(key=lambda line: (line.day, line.activity))
    return CertificateSnapshot(
        lines=tuple(lines),
        content_summary=separator.join(
            _ranked_shown([(line.content, line.minutes) for line in lines])
        ),
        recording_units=tuple(_ranked([(line.unit, line.minutes) for line in lines])),
    )


def _ranked(pairs: Sequence[tuple[str, int]]) -> list[str]:
    minutes: dict[str, int] = {}
    for name, amount in pairs:
        minutes[name] = minutes.get(name, 0) + amount
    return sorted(minutes, key=lambda name: (-minutes[name], name))


def _ranked_shown(pairs: Sequence[tuple[str, int]]) -> list[str]:
    kinds = _ranked(pairs)
    shown = kinds[:MAX_CONTENT_KINDS]
    if len(kinds) > len(shown):
        shown.append("…")
    return shown


def main_unit(records: Iterable[ServiceRecord], period: Period) -> int | None:
    """The recording organization with the most minutes in ``period`` (it approves when
    approval is on); ties go to the lower id, so every process picks the same."""
    minutes: dict[int, int] = {}
    for record in records:
        if record.organization_id is None or not period.covers(record.service_date):
            continue
        minutes[record.organization_id] = minutes.get(record.organization_id, 0) + record.minutes
    if not minutes:
        return None
    return min(minutes, key=lambda org: (-minutes[org], org))


# -- certificates as stored ------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    certificate_id: int
    code: str
    number: str | None
    volunteer_id: int
    requested_by: int | None
    period: Period
    language: Language
    status: CertificateStatus
    approver_organization_id: int | None
    snapshot: CertificateSnapshot | None  # None until issued
    masked_name: str | None
    masked_id_number: str | None
    issuer_name: str | None
    requested_at: datetime
    issued_at: datetime | None
    approved_by: int | None
    rejected_at: datetime | None
    reject_reason: str | None
    revoked_at: datetime | None
    revoke_reason: str | None
    holder_telegram_id: int | None = None  # None once the account is deleted

    @property
    def is_valid(self) -> bool:
        return self.status is CertificateStatus.ISSUED


@dataclass(frozen=True)
class Verification:
    """All a verifier is told (Art. 16): nothing that finds or profiles the holder."""

    masked_name: str
    total_minutes: int
    issuer_name: str
    number: str
    issued_at: datetime
    valid: bool
    revoked_at: datetime | None

    @classmethod
    def of(cls, certificate: Certificate) -> Verification | None:
        """``None`` for anything not issued (requested or rejected: "not found")."""
        if certificate.status not in (CertificateStatus.ISSUED, CertificateStatus.REVOKED):
            return None
        snapshot = certificate.snapshot
        if (
            snapshot is None
            or certificate.masked_name is None
            or certificate.issuer_name is None
            or certificate.number is None
            or certificate.issued_at is None
        ):
            return None  # pragma: no cover - the CHECK of certificates forbids it
        return cls(
            masked_name=certificate.masked_name,
            total_minutes=snapshot.total_minutes,
            issuer_name=certificate.issuer_name,
            number=certificate.number,
            issued_at=certificate.issued_at,
            valid=certificate.status is CertificateStatus.ISSUED,
            revoked_at=certificate.revoked_at,
        )


@dataclass(frozen=True)
class CertificateDocument:
    """What the PDF shows: the certificate and the holder's full name (their own copy)."""

    certificate: Certificate
    snapshot: CertificateSnapshot
    full_name: str
    number: str
    issued_at: datetime
    issuer_name: str


# -- guessing codes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuessPolicy:
    """After ``max_failures`` wrong codes within ``window``, refuse for ``block``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=1)
    block: timedelta = timedelta(minutes=15)
