"""Volunteer profiles, registration drafts, the "export my data" and "delete my account" rights.

Tables (migration 0003): ``volunteers`` with ``volunteer_skills``, ``volunteer_categories`` and
``volunteer_groups``, and ``registration_drafts``. A draft's answers are stored as the JSON of
:class:`~bot.domain.volunteers.DraftData`, encoded and decoded here (never with SQL JSON
functions, which differ between SQLite and PostgreSQL).

Service records refer to ``volunteer_id``, never to the Telegram id. Deleting an account
therefore anonymizes the profile in place instead of removing it (see :data:`ERASED_FIELDS` and
:data:`KEPT_FIELDS`). Delete users only through :meth:`VolunteersRepository.delete_account`:
removing a ``users`` row directly would unlink the profile (``ON DELETE SET NULL``) without
erasing it.

The service layer validates what the volunteer typed; the checks here are the last line (they
raise :class:`ValueError`) and decide nothing about the business.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final

from pydantic import ValidationError

from bot.domain.requests import MASKED
from bot.domain.volunteers import (
    ALL_SLOTS,
    DeletionReport,
    DraftData,
    Gender,
    NotificationSettings,
    RegistrationDraft,
    RegistrationStep,
    VolunteerGroup,
    VolunteerProfile,
)
from storage.contact_reveals import ContactRevealsRepository
from storage.db import Database, Params, Row, Transaction
from storage.outbox import OutboxRepository
from storage.signups import SignupsRepository
from storage.timeutil import from_db_time, to_db_time

__all__ = [
    "ERASED_FIELDS",
    "KEPT_FIELDS",
    "ProfileExists",
    "ProfileNotFound",
    "VolunteersRepository",
]

_LOGGER = logging.getLogger(__name__)

#: Profile fields cleared when an account is deleted (skills and groups: their rows are deleted).
ERASED_FIELDS: Final[tuple[str, ...]] = (
    "telegram_id",
    "real_name",
    "phone",
    "id_number",
    "gender",
    "birth_date",
    "guardian_consent_at",
    "area_text",
    "skills",
    "groups",
    "availability",
    "paused_until",
)
#: What the anonymized record keeps, for statistics and for the service records that refer to it.
KEPT_FIELDS: Final[tuple[str, ...]] = (
    "volunteer_id",
    "area_code",
    "is_minor",
    "categories",
    "consent_version",
    "consent_at",
    "registered_at",
    "deleted_at",
)

# The bot's own state about a user: which flow reads their typed input (storage.flows) and
# what their browsing screens page through (storage.browsing). One row each, keyed by user.
_STATE_TABLES: Final = ("flow_owners", "browse_sessions")

_Fetch = Callable[[str, Params], Awaitable[list[Row]]]

_PROFILE_COLUMNS = """
    v.volunteer_id, v.telegram_id, v.real_name, v.phone, v.id_number, v.gender, v.birth_date,
    v.is_minor, v.guardian_consent_at, v.area_code, v.area_text, v.availability,
    v.consent_version, v.consent_at, v.registered_at, v.updated_at, v.paused_until,
    v.notify_reminders, v.notify_campaigns, v.notify_digest, v.notify_invitations,
    v.quiet_start, v.quiet_end
"""

# A live profile and its skills, categories and groups in ONE statement, so that a read on the
# read connection sees one snapshot (never the row before an edit and the skills after it).
# {key} selects the volunteer; it is repeated inside each branch of the UNION so every branch is
# an index lookup (SQLite does not push the outer join condition into a compound subquery).
_PROFILE_TEMPLATE = f"""
SELECT {_PROFILE_COLUMNS}, m.kind AS member_kind, m.code AS member_code
FROM volunteers v
LEFT JOIN (
    SELECT vs.volunteer_id, 'skill' AS kind, vs.skill_code AS code, s.sort_order AS sort_order
    FROM volunteer_skills vs JOIN skills s ON s.code = vs.skill_code
    WHERE vs.volunteer_id = {{key}}
    UNION ALL
    SELECT vc.volunteer_id, 'category', vc.category_code, c.sort_order
    FROM volunteer_categories vc JOIN service_categories c ON c.code = vc.category_code
    WHERE vc.volunteer_id = {{key}}
    UNION ALL
    SELECT vg.volunteer_id, 'group', vg.group_code, 0
    FROM volunteer_groups vg
    WHERE vg.volunteer_id = {{key}}
) m ON m.volunteer_id = v.volunteer_id
WHERE v.volunteer_id = {{key}} AND v.deleted_at IS NULL AND v.telegram_id IS NOT NULL
ORDER BY m.kind, m.sort_order, m.code
"""
_PROFILE_KEY_PARAMS = 4  # how often {key} occurs above
_PROFILE_BY_ID = _PROFILE_TEMPLATE.format(key="?")
_PROFILE_BY_TELEGRAM_ID = _PROFILE_TEMPLATE.format(
    key="(SELECT volunteer_id FROM volunteers WHERE telegram_id = ?)"
)

_EDITABLE_COLUMNS = (
    "real_name",
    "phone",
    "id_number",
    "gender",
    "birth_date",
    "is_minor",
    "guardian_consent_at",
    "area_code",
    "area_text",
    "availability",
    "consent_version",
    "consent_at",
)

# ON CONFLICT DO NOTHING + RETURNING: no row back means the Telegram user already has a profile.
# Race-free even without our write lock (PostgreSQL), unlike a SELECT before the INSERT.
_INSERT_PROFILE = f"""
INSERT INTO volunteers (telegram_id, {", ".join(_EDITABLE_COLUMNS)}, registered_at, updated_at)
VALUES ({", ".join("?" * (len(_EDITABLE_COLUMNS) + 3))})
ON CONFLICT (telegram_id) DO NOTHING
RETURNING volunteer_id
"""

_UPDATE_PROFILE = f"""
UPDATE volunteers SET {", ".join(f"{column} = ?" for column in _EDITABLE_COLUMNS)}, updated_at = ?
WHERE telegram_id = ? AND deleted_at IS NULL
RETURNING volunteer_id
"""

_ANONYMIZE = """
UPDATE volunteers SET
    telegram_id = NULL, real_name = NULL, phone = NULL, id_number = NULL, gender = NULL,
    birth_date = NULL, guardian_consent_at = NULL, area_text = NULL, availability = 0,
    paused_until = NULL, deleted_at = COALESCE(deleted_at, ?), updated_at = ?
WHERE volunteer_id = ?
"""

_SAVE_DRAFT = """
INSERT INTO registration_drafts (telegram_id, step, return_to_review, data, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (telegram_id) DO UPDATE SET
    step = excluded.step,
    return_to_review = excluded.return_to_review,
    data = excluded.data,
    updated_at = excluded.updated_at
"""
_SELECT_DRAFT = """
SELECT telegram_id, step, return_to_review, data, updated_at
FROM registration_drafts WHERE telegram_id = ?
"""
_DELETE_DRAFT = "DELETE FROM registration_drafts WHERE telegram_id = ?"


class ProfileExists(Exception):
    """The Telegram user already has a (live) volunteer profile."""

    def __init__(self, telegram_id: int, volunteer_id: int | None) -> None:
        self.telegram_id = telegram_id
        self.volunteer_id = volunteer_id
        super().__init__(
            f"Telegram user {telegram_id} already has volunteer profile {volunteer_id}"
        )


class ProfileNotFound(LookupError):
    """The Telegram user has no (live) volunteer profile."""

    def __init__(self, telegram_id: int) -> None:
        self.telegram_id = telegram_id
        super().__init__(f"Telegram user {telegram_id} has no volunteer profile")


# -- mapping --------------------------------------------------------------------------------------


def _db_time(value: datetime | None) -> str | None:
    return to_db_time(value) if value is not None else None


def _py_time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _py_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _wall_time(value: time) -> str:
    """Quiet hours as 'HH:MM' (the column's format and default)."""
    if value.second or value.microsecond:
        raise ValueError(f"quiet hours are whole minutes, got {value.isoformat()}")
    return value.replace(tzinfo=None).isoformat(timespec="minutes")


def _group_order(code: str) -> tuple[int, str]:
    try:
        return list(VolunteerGroup).index(VolunteerGroup(code)), code
    except ValueError:  # a code this version does not know: last, but kept
        return len(VolunteerGroup), code


def _to_profile(rows: list[Row]) -> VolunteerProfile | None:
    """Build a profile from the rows of :data:`_PROFILE_TEMPLATE` (one per skill/category/group)."""
    if not rows:
        return None
    row = rows[0]
    members: dict[str, list[str]] = {"skill": [], "category": [], "group": []}
    for member in rows:
        if member["member_kind"] is not None:
            members[member["member_kind"]].append(member["member_code"])
    gender = row["gender"]
    birth_date = _py_date(row["birth_date"])
    consent_at = _py_time(row["consent_at"])
    if birth_date is None or consent_at is None:  # pragma: no cover - the table CHECK forbids it
        raise RuntimeError(f"volunteer {row['volunteer_id']} is live but incomplete")
    return VolunteerProfile(
        volunteer_id=row["volunteer_id"],
        telegram_id=row["telegram_id"],
        real_name=row["real_name"],
        phone=row["phone"],
        id_number=row["id_number"],
        gender=Gender(gender) if gender is not None else None,
        birth_date=birth_date,
        is_minor=bool(row["is_minor"]),
        guardian_consent_at=_py_time(row["guardian_consent_at"]),
        area_code=row["area_code"],
        area_text=row["area_text"],
        skills=tuple(members["skill"]),
        categories=tuple(members["category"]),
        availability=row["availability"],
        groups=tuple(sorted(members["group"], key=_group_order)),
        consent_version=row["consent_version"],
        consent_at=consent_at,
        registered_at=from_db_time(row["registered_at"]),
        updated_at=from_db_time(row["updated_at"]),
        paused_until=_py_date(row["paused_until"]),
        notifications=NotificationSettings(
            reminders=bool(row["notify_reminders"]),
            campaigns=bool(row["notify_campaigns"]),
            digest=bool(row["notify_digest"]),
            invitations=bool(row["notify_invitations"]),
            quiet_start=time.fromisoformat(row["quiet_start"]),
            quiet_end=time.fromisoformat(row["quiet_end"]),
        ),
    )


def _to_draft(row: Row) -> RegistrationDraft:
    return RegistrationDraft(
        telegram_id=row["telegram_id"],
        step=RegistrationStep(row["step"]),
        return_to_review=bool(row["return_to_review"]),
        data=DraftData.model_validate_json(row["data"]),
        updated_at=from_db_time(row["updated_at"]),
    )


@dataclass(frozen=True)
class _Memberships:
    skills: tuple[str, ...]
    categories: tuple[str, ...]
    groups: tuple[str, ...]


def _unique(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def _checked_values(data: DraftData, *, is_minor: bool) -> tuple[tuple[object, ...], _Memberships]:
    """The editable column values (in :data:`_EDITABLE_COLUMNS` order) and the join-table codes.

    Raises :class:`ValueError` when something a profile needs is missing or malformed.
    """
    missing = [
        name
        for name, value in (
            ("real_name", data.real_name),
            ("phone", data.phone),
            ("consent_version", data.consent_version),
        )
        if value is None or not value.strip()
    ]
    if data.birth_date is None:
        missing.append("birth_date")
    if data.consent_at is None:
        missing.append("consent_at")
    if not data.categories:
        missing.append("categories (at least one)")
    if is_minor and data.guardian_consent_at is None:
        missing.append("guardian_consent_at (the volunteer is a minor)")
    if missing:
        raise ValueError(f"cannot save the volunteer profile, missing: {', '.join(missing)}")
    unknown_groups = sorted(set(data.groups) - {group.value for group in VolunteerGroup})
    if unknown_groups:
        raise ValueError(f"unknown volunteer groups: {', '.join(unknown_groups)}")
    if data.availability & ~ALL_SLOTS.value or data.availability < 0:
        raise ValueError(f"availability {data.availability} has bits outside the slot grid")
    assert data.birth_date is not None  # for mypy: checked above
    values = (
        data.real_name,
        data.phone,
        data.id_number,
        data.gender.value if data.gender is not None else None,
        data.birth_date.isoformat(),
        int(is_minor),
        _db_time(data.guardian_consent_at),
        data.area_code,
        data.area_text,
        data.availability,
        data.consent_version,
        _db_time(data.consent_at),
    )
    memberships = _Memberships(
        skills=_unique(data.skills),
        categories=_unique(data.categories),
        groups=_unique(data.groups),
    )
    return values, memberships


async def _write_memberships(tx: Transaction, volunteer_id: int, members: _Memberships) -> None:
    """Replace the volunteer's skills, categories and groups. Unknown skill or category codes
    violate a foreign key and fail the statement (and with it the transaction)."""
    for table, column, codes in (
        ("volunteer_skills", "skill_code", members.skills),
        ("volunteer_categories", "category_code", members.categories),
        ("volunteer_groups", "group_code", members.groups),
    ):
        await tx.execute(f"DELETE FROM {table} WHERE volunteer_id = ?", (volunteer_id,))
        if codes:
            await tx.execute_many(
                f"INSERT INTO {table} (volunteer_id, {column}) VALUES (?, ?)",
                [(volunteer_id, code) for code in codes],
            )


async def _bot_state(fetch: _Fetch, telegram_id: int) -> dict[str, object]:
    """The bot's state about the user, for the export: the flow that owns their typed input
    (with what it keeps, e.g. a half-typed edit) and their last search and shared location."""
    flow_rows = await fetch(
        "SELECT flow, waiting_for, state, version, updated_at FROM flow_owners "
        "WHERE telegram_id = ?",
        (telegram_id,),
    )
    browse_rows = await fetch(
        "SELECT search_words, latitude, longitude, located_at FROM browse_sessions "
        "WHERE telegram_id = ?",
        (telegram_id,),
    )
    flow: dict[str, object] | None = None
    if flow_rows:
        flow = _row_dict(flow_rows[0])
        flow["state"] = _json_value(str(flow["state"]))
    browsing: dict[str, object] | None = None
    if browse_rows:
        browsing = _row_dict(browse_rows[0])
        words = browsing.pop("search_words")
        browsing["search_words"] = _json_value(words) if isinstance(words, str) else None
    return {"flow": flow, "browsing": browsing}


# The volunteer's own service record. The organizer's evaluation of their service is left out on
# purpose: Art. 10 lets the organization evaluate, and the platform keeps it for organizers
# (see the evaluation tables of migration 0019).
_SERVICE_EXPORT: Final = (
    ("records", "SELECT * FROM service_records WHERE volunteer_id = ? ORDER BY service_date"),
    (
        "corrections",
        "SELECT c.* FROM record_corrections c JOIN service_records r "
        "ON r.record_id = c.record_id WHERE r.volunteer_id = ? ORDER BY c.created_at",
    ),
    (
        "attendance",
        "SELECT a.activity_id, x.title, a.mark, a.walk_in, a.checked_in_at, a.checked_out_at, "
        "a.in_method, a.out_method, a.distance_m, a.minutes_override, a.override_reason "
        "FROM attendance a JOIN activities x ON x.activity_id = a.activity_id "
        "WHERE a.volunteer_id = ? ORDER BY x.starts_at",
    ),
    (
        "trainings",
        "SELECT q.name, vq.granted_at, vq.activity_id FROM volunteer_qualifications vq "
        "JOIN qualifications q ON q.qualification_id = vq.qualification_id "
        "WHERE vq.volunteer_id = ? ORDER BY vq.granted_at",
    ),
    (
        "awards",
        "SELECT title, issuer, awarded_on FROM awards WHERE volunteer_id = ? ORDER BY awarded_on",
    ),
    (
        "star_levels",
        "SELECT * FROM volunteer_stars WHERE volunteer_id = ? ORDER BY level",
    ),
    (
        "points",
        "SELECT t.transfer_id, t.created_at, t.kind, m.amount FROM point_movements m "
        "JOIN point_accounts a ON a.account_id = m.account_id "
        "JOIN point_transfers t ON t.transfer_id = m.transfer_id "
        "WHERE a.volunteer_id = ? ORDER BY t.transfer_id",
    ),
    (
        "reward_redemptions",
        "SELECT * FROM reward_redemptions WHERE volunteer_id = ? ORDER BY redemption_id",
    ),
    (
        "emergency_pool",
        "SELECT * FROM emergency_pool WHERE volunteer_id = ?",
    ),
    (
        "emergency_skills",
        "SELECT skill FROM emergency_pool_skills WHERE volunteer_id = ? ORDER BY skill",
    ),
)


async def _export_service(tx: Transaction, volunteer_id: int) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, sql in _SERVICE_EXPORT:
        found[key] = [_row_dict(row) for row in await tx.fetch_all(sql, (volunteer_id,))]
    return found


def _row_dict(row: Row) -> dict[str, object]:
    # Iterating a Row yields its values, not its column names.
    return dict(zip(row.keys(), tuple(row), strict=True))


def _json_value(value: str) -> object:
    try:
        decoded: object = json.loads(value)
    except json.JSONDecodeError:
        return value
    return decoded


# -- the repository -------------------------------------------------------------------------------


class VolunteersRepository:
    """Reads and writes volunteer profiles and registration drafts.

    Times come from the caller's clock (``now``); every write is one transaction.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- drafts ----------------------------------------------------------------------------------

    async def get_draft(self, telegram_id: int) -> RegistrationDraft | None:
        """The registration in progress, or ``None``.

        A draft this version of the code cannot read any more (a renamed step, a changed field)
        is logged and treated as absent: the volunteer starts over rather than getting stuck.
        """
        row = await self._db.fetch_one(_SELECT_DRAFT, (telegram_id,))
        if row is None:
            return None
        try:
            return _to_draft(row)
        except (ValidationError, ValueError) as exc:
            _LOGGER.warning("Ignoring unreadable registration draft of %s: %s", telegram_id, exc)
            return None

    async def save_draft(self, draft: RegistrationDraft) -> None:
        """Create or replace the user's draft (the ``users`` row must exist)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                _SAVE_DRAFT,
                (
                    draft.telegram_id,
                    draft.step.value,
                    int(draft.return_to_review),
                    draft.data.model_dump_json(),
                    to_db_time(draft.updated_at),
                ),
            )

    async def delete_draft(self, telegram_id: int) -> bool:
        """Drop the draft; ``False`` if there was none."""
        async with self._db.transaction() as tx:
            return await tx.execute(_DELETE_DRAFT, (telegram_id,)) > 0

    # -- profiles --------------------------------------------------------------------------------

    async def create_profile(
        self, telegram_id: int, data: DraftData, *, is_minor: bool, now: datetime
    ) -> VolunteerProfile:
        """Register a volunteer from their confirmed answers and drop their draft, atomically.

        Raises :class:`ValueError` when a required answer is missing, :class:`ProfileExists`
        when the user already has a profile, and the driver's integrity error when a code
        (area, skill, category) or the ``users`` row does not exist; nothing is written then.
        """
        values, members = _checked_values(data, is_minor=is_minor)
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(_INSERT_PROFILE, (telegram_id, *values, stamp, stamp))
            if row is None:
                existing = await tx.fetch_one(
                    "SELECT volunteer_id FROM volunteers WHERE telegram_id = ?", (telegram_id,)
                )
                raise ProfileExists(
                    telegram_id, existing["volunteer_id"] if existing is not None else None
                )
            volunteer_id: int = row["volunteer_id"]
            await _write_memberships(tx, volunteer_id, members)
            await tx.execute(_DELETE_DRAFT, (telegram_id,))
            rows = await tx.fetch_all(_PROFILE_BY_ID, (volunteer_id,) * _PROFILE_KEY_PARAMS)
        return self._loaded(rows, telegram_id)

    async def update_profile(
        self, telegram_id: int, data: DraftData, *, is_minor: bool, now: datetime
    ) -> VolunteerProfile:
        """Replace every editable field, skills, categories and groups; drop the edit's draft.

        Raises like :meth:`create_profile`, and :class:`ProfileNotFound` without a profile.
        """
        values, members = _checked_values(data, is_minor=is_minor)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(_UPDATE_PROFILE, (*values, to_db_time(now), telegram_id))
            if row is None:
                raise ProfileNotFound(telegram_id)
            volunteer_id: int = row["volunteer_id"]
            await _write_memberships(tx, volunteer_id, members)
            await tx.execute(_DELETE_DRAFT, (telegram_id,))
            rows = await tx.fetch_all(_PROFILE_BY_ID, (volunteer_id,) * _PROFILE_KEY_PARAMS)
        return self._loaded(rows, telegram_id)

    async def get_profile(self, telegram_id: int) -> VolunteerProfile | None:
        """The user's live profile (``None`` if they never registered or deleted the account)."""
        rows = await self._db.fetch_all(
            _PROFILE_BY_TELEGRAM_ID, (telegram_id,) * _PROFILE_KEY_PARAMS
        )
        return _to_profile(rows)

    async def get_profile_by_id(self, volunteer_id: int) -> VolunteerProfile | None:
        """A live profile by its id; ``None`` for an anonymized (deleted) one."""
        rows = await self._db.fetch_all(_PROFILE_BY_ID, (volunteer_id,) * _PROFILE_KEY_PARAMS)
        return _to_profile(rows)

    async def set_notifications(
        self, telegram_id: int, settings: NotificationSettings, now: datetime
    ) -> VolunteerProfile:
        """Store the per-kind opt-outs and quiet hours (whole minutes). :class:`ProfileNotFound`
        without a profile."""
        return await self._update(
            telegram_id,
            "notify_reminders = ?, notify_campaigns = ?, notify_digest = ?, "
            "notify_invitations = ?, quiet_start = ?, quiet_end = ?",
            (
                int(settings.reminders),
                int(settings.campaigns),
                int(settings.digest),
                int(settings.invitations),
                _wall_time(settings.quiet_start),
                _wall_time(settings.quiet_end),
            ),
            now,
        )

    async def pause(self, telegram_id: int, until: date, now: datetime) -> VolunteerProfile:
        """No invitations or campaigns until ``until`` (active again on that day)."""
        return await self._update(telegram_id, "paused_until = ?", (until.isoformat(),), now)

    async def resume(self, telegram_id: int, now: datetime) -> VolunteerProfile:
        return await self._update(telegram_id, "paused_until = NULL", (), now)

    async def count_active(self, *, today: date | None = None) -> int:
        """Registered volunteers (deleted accounts excluded). With ``today``, paused ones are
        left out too."""
        sql = "SELECT COUNT(*) AS n FROM volunteers WHERE deleted_at IS NULL"
        sql += " AND telegram_id IS NOT NULL"
        params: tuple[object, ...] = ()
        if today is not None:
            sql += " AND (paused_until IS NULL OR paused_until <= ?)"
            params = (today.isoformat(),)
        row = await self._db.fetch_one(sql, params)
        return int(row["n"]) if row is not None else 0

    # -- the user's rights -----------------------------------------------------------------------

    async def export(self, telegram_id: int) -> dict[str, object]:
        """Everything stored about the user, as JSON-ready data (the right to a copy).

        Keys: ``telegram_id``, ``user`` (the whole ``users`` row), ``volunteer`` (the profile
        with skill, category and area names in both languages, notification settings),
        ``service_record`` (民政部令第67号: every service record, its corrections, check-ins and
        hand marks, trainings completed and awards), ``registration_draft``, ``bot_state``
        (``flow``: the flow that owns the user's typed input and its state; ``browsing``: the
        last search and shared location), ``contact_reveals`` (who outside the organizers was
        shown their phone number, on which activity, when and why). Missing parts are ``None``.
        Times are ISO strings.
        """
        # Read inside a (short) transaction: one consistent snapshot of all the parts.
        async with self._db.transaction() as tx:
            user_row = await tx.fetch_one(
                "SELECT * FROM users WHERE telegram_id = ?", (telegram_id,)
            )
            profile = _to_profile(
                await tx.fetch_all(_PROFILE_BY_TELEGRAM_ID, (telegram_id,) * _PROFILE_KEY_PARAMS)
            )
            volunteer = await self._export_profile(tx, profile) if profile is not None else None
            service = (
                await _export_service(tx, profile.volunteer_id) if profile is not None else None
            )
            draft_row = await tx.fetch_one(_SELECT_DRAFT, (telegram_id,))
            bot_state = await _bot_state(tx.fetch_all, telegram_id)
            # Who was shown their phone number outside the organizers, and why (issue #15).
            contact_reveals = (
                await ContactRevealsRepository.export_in(tx, profile.volunteer_id)
                if profile is not None
                else None
            )

        user: dict[str, object] | None = None
        if user_row is not None:
            user = _row_dict(user_row)
            user["is_reachable"] = bool(user["is_reachable"])
        draft: object = None
        if draft_row is not None:
            try:
                draft = _to_draft(draft_row).model_dump(mode="json")
            except (ValidationError, ValueError):  # unreadable now: hand over what is stored
                draft = _row_dict(draft_row)
        return {
            "telegram_id": telegram_id,
            "user": user,
            "volunteer": volunteer,
            "service_record": service,
            "registration_draft": draft,
            "bot_state": bot_state,
            "contact_reveals": contact_reveals,
        }

    async def delete_account(self, telegram_id: int, now: datetime) -> DeletionReport:
        """Erase the user (the right to deletion), in one transaction.

        Deletes the draft, the bot's stored state about them, invitations they received and the
        ``users`` row (which cascades to their organization memberships and the drafts of the
        organizer, publishing, roster, broadcast and key-date forms); a profile is
        anonymized in place (:data:`ERASED_FIELDS` cleared, :data:`KEPT_FIELDS` kept) because
        service records refer to its ``volunteer_id``. The bot keeps nothing about users in
        memory, so nothing can write it back. Running it again finds nothing to erase.
        """
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            draft_deleted = await tx.execute(_DELETE_DRAFT, (telegram_id,)) > 0
            row = await tx.fetch_one(
                "SELECT volunteer_id FROM volunteers WHERE telegram_id = ?", (telegram_id,)
            )
            volunteer_id: int | None = row["volunteer_id"] if row is not None else None
            if volunteer_id is not None:
                for table in ("volunteer_skills", "volunteer_groups"):
                    await tx.execute(f"DELETE FROM {table} WHERE volunteer_id = ?", (volunteer_id,))
                await tx.execute(_ANONYMIZE, (stamp, stamp, volunteer_id))
                await SignupsRepository.withdraw_from_unfinished(tx, volunteer_id, now)
                # Invitations say whom organizers approached; the anonymized row keeps none.
                await tx.execute("DELETE FROM invitations WHERE volunteer_id = ?", (volunteer_id,))
                # The on-call pool says where they are and when they can be called: theirs alone
                # (its skills go with it).
                await tx.execute(
                    "DELETE FROM emergency_pool WHERE volunteer_id = ?", (volunteer_id,)
                )
            # Updates they sent are kept a while after handling (repeated webhook deliveries are
            # recognized by them); their text, names and shared phone numbers go now.
            await tx.execute(
                "UPDATE inbox SET payload = '{}' WHERE status = 'done' "
                "AND (lane = ? OR lane LIKE ?)",
                (f"u:{telegram_id}", f"g:%:{telegram_id}"),
            )
            # As a resident: their address, phone and name on requests are masked at once
            # (the request itself stays, for the team's records and the statistics).
            await tx.execute(
                "UPDATE service_requests SET address = ?, phone = ?, contact_name = ?, "
                "latitude = NULL, longitude = NULL, masked_at = COALESCE(masked_at, ?) "
                "WHERE resident_id = ?",
                (MASKED, MASKED, MASKED, stamp, telegram_id),
            )
            # Nothing more goes to a deleted account.
            await OutboxRepository.drop_pending_in(tx, telegram_id, now, "account deleted")
            # They cascade from users too; deleted by name so the count is reported.
            state_rows_deleted = 0
            for table in _STATE_TABLES:
                state_rows_deleted += await tx.execute(
                    f"DELETE FROM {table} WHERE telegram_id = ?", (telegram_id,)
                )
            user_deleted = (
                await tx.execute("DELETE FROM users WHERE telegram_id = ?", (telegram_id,)) > 0
            )
        # Committed: now no copy of the erased bytes may stay in the database's files.
        await self._db.scrub()
        kept = volunteer_id is not None
        return DeletionReport(
            telegram_id=telegram_id,
            user_deleted=user_deleted,
            draft_deleted=draft_deleted,
            state_rows_deleted=state_rows_deleted,
            kept_anonymized_record=kept,
            volunteer_id=volunteer_id,
            erased_fields=ERASED_FIELDS if kept else (),
            kept_fields=KEPT_FIELDS if kept else (),
        )

    # -- helpers ---------------------------------------------------------------------------------

    async def _update(
        self, telegram_id: int, set_clause: str, params: tuple[object, ...], now: datetime
    ) -> VolunteerProfile:
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                f"UPDATE volunteers SET {set_clause}, updated_at = ? "
                "WHERE telegram_id = ? AND deleted_at IS NULL RETURNING volunteer_id",
                (*params, to_db_time(now), telegram_id),
            )
            if row is None:
                raise ProfileNotFound(telegram_id)
            rows = await tx.fetch_all(_PROFILE_BY_ID, (row["volunteer_id"],) * _PROFILE_KEY_PARAMS)
        return self._loaded(rows, telegram_id)

    @staticmethod
    def _loaded(rows: list[Row], telegram_id: int) -> VolunteerProfile:
        profile = _to_profile(rows)
        if profile is None:  # pragma: no cover - read back inside the writing transaction
            raise RuntimeError(f"the profile of {telegram_id} vanished while being written")
        return profile

    @staticmethod
    async def _export_profile(tx: Transaction, profile: VolunteerProfile) -> dict[str, object]:
        exported = profile.model_dump(mode="json")
        for key, sql in (
            (
                "skills",
                "SELECT s.code, s.name_zh, s.name_en FROM volunteer_skills vs "
                "JOIN skills s ON s.code = vs.skill_code WHERE vs.volunteer_id = ? "
                "ORDER BY s.sort_order, s.code",
            ),
            (
                "categories",
                "SELECT c.code, c.name_zh, c.name_en FROM volunteer_categories vc "
                "JOIN service_categories c ON c.code = vc.category_code "
                "WHERE vc.volunteer_id = ? ORDER BY c.sort_order, c.code",
            ),
        ):
            rows = await tx.fetch_all(sql, (profile.volunteer_id,))
            exported[key] = [
                {"code": row["code"], "name_zh": row["name_zh"], "name_en": row["name_en"]}
                for row in rows
            ]
        area = None
        if profile.area_code is not None:
            row = await tx.fetch_one(
                "SELECT code, name_zh, name_en FROM areas WHERE code = ?", (profile.area_code,)
            )
            if row is not None:
                area = {"code": row["code"], "name_zh": row["name_zh"], "name_en": row["name_en"]}
        exported["area"] = area
        return exported
