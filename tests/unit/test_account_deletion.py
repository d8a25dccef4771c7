"""Deleting an account also erases what the organizer and recruiting features hold about the
person: invitations they received, their half-filled forms and their memberships."""

from __future__ import annotations

from bot.domain.activities import MemberRole
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.timeutil import to_db_time
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_volunteer


async def _count(db: Database, sql: str, *params: object) -> int:
    row = await db.fetch_one(sql, params)
    assert row is not None
    return int(row[0])


async def test_deletion_erases_invitations_drafts_and_memberships(db: Database) -> None:
    organization = await add_organization(db)
    activity = await add_activity(db, organization)
    person = await add_volunteer(db, name="赵六")
    await OrganizationsRepository(db).add_member(
        organization.organization_id, person.telegram_id, MemberRole.ORGANIZER, NOW
    )
    stamp = to_db_time(NOW)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO invitations (activity_id, volunteer_id, invited_at) VALUES (?, ?, ?)",
            (activity.activity_id, person.volunteer_id, stamp),
        )
        await tx.execute(
            "INSERT INTO activity_drafts (organization_id, telegram_id, step, data, created_at, "
            "updated_at) VALUES (?, ?, 'title', '{}', ?, ?)",
            (organization.organization_id, person.telegram_id, stamp, stamp),
        )
        await tx.execute(
            "INSERT INTO organization_drafts (telegram_id, step, created_at, updated_at) "
            "VALUES (?, 'name', ?, ?)",
            (person.telegram_id, stamp, stamp),
        )

    await VolunteersRepository(db).delete_account(person.telegram_id, NOW)

    volunteer_id, telegram_id = person.volunteer_id, person.telegram_id
    assert (
        await _count(db, "SELECT COUNT(*) FROM invitations WHERE volunteer_id = ?", volunteer_id)
        == 0
    )
    for table in ("activity_drafts", "organization_drafts", "organization_members"):
        count = await _count(db, f"SELECT COUNT(*) FROM {table} WHERE telegram_id = ?", telegram_id)
        assert count == 0, table
    # The organization and its activity stay: they are not the person's data.
    assert await _count(db, "SELECT COUNT(*) FROM activities") == 1
