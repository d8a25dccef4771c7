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


async def test_deletion_removes_the_on_call_pool_and_masks_requests_made_as_a_resident(
    db: Database,
) -> None:
    person = await add_volunteer(db, name="钱七")
    stamp = to_db_time(NOW)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO emergency_pool (volunteer_id, area_code, latitude, longitude, "
            "joined_at, updated_at) VALUES (?, 'furong', 28.2, 112.9, ?, ?)",
            (person.volunteer_id, stamp, stamp),
        )
        await tx.execute(
            "INSERT INTO emergency_pool_skills (volunteer_id, skill) VALUES (?, 'first_aid')",
            (person.volunteer_id,),
        )
        await tx.execute(
            "INSERT INTO service_requests (resident_id, category_code, need, starts_at, "
            "area_code, address, beneficiary, contact_name, phone, status, created_at, "
            "updated_at) VALUES (?, 'health', '量血压', ?, 'furong', '芙蓉路1号', 'self', '钱七', "
            "'+8613811112222', 'queued', ?, ?)",
            (person.telegram_id, stamp, stamp, stamp),
        )
    exported = await VolunteersRepository(db).export(person.telegram_id)
    service = exported["service_record"]
    assert isinstance(service, dict)
    assert [row["skill"] for row in service["emergency_skills"]] == ["first_aid"]
    assert service["points"] == [] and service["star_levels"] == []

    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO inbox (update_id, lane, payload, received_at, status, done_at) "
            'VALUES (1, ?, \'{"message": {"text": "13811112222"}}\', ?, \'done\', ?), '
            "(2, 'u:999', '{\"keep\": 1}', ?, 'done', ?)",
            (f"u:{person.telegram_id}", stamp, stamp, stamp, stamp),
        )

    await VolunteersRepository(db).delete_account(person.telegram_id, NOW)

    kept = await db.fetch_all("SELECT update_id, payload FROM inbox ORDER BY update_id")
    assert [(row["update_id"], row["payload"]) for row in kept] == [(1, "{}"), (2, '{"keep": 1}')]
    assert await _count(db, "SELECT COUNT(*) FROM emergency_pool") == 0
    assert await _count(db, "SELECT COUNT(*) FROM emergency_pool_skills") == 0
    row = await db.fetch_one("SELECT address, phone, contact_name, masked_at FROM service_requests")
    assert row is not None
    assert (row["address"], row["phone"], row["contact_name"]) == ("***", "***", "***")
    assert row["masked_at"] is not None
