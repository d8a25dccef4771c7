"""The demo data set: believable, consistent with the rules, and loaded once."""

from __future__ import annotations

from bot.demo import ADMIN_IDS, PERSONAS, load_demo_data
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW


async def test_demo_data_is_loaded_once_and_keeps_the_counters_right(db: Database) -> None:
    assert await load_demo_data(db, NOW) is True
    assert await load_demo_data(db, NOW) is False  # a kept database is reused as it is

    counts = await db.fetch_one(
        "SELECT COUNT(*) AS activities, COUNT(DISTINCT category_code) AS categories, "
        "SUM(waitlist_count) AS waiting FROM activities WHERE status = 'published'"
    )
    assert counts is not None
    assert 30 <= counts["activities"] <= 40
    assert counts["categories"] >= 10
    assert counts["waiting"] >= 1
    assert (await db.fetch_one("SELECT COUNT(*) AS n FROM organizations"))["n"] >= 4  # type: ignore[index]
    assert (await db.fetch_one("SELECT COUNT(*) AS n FROM volunteers"))["n"] >= 30  # type: ignore[index]

    # Every activity's counters equal a recount of its sign-ups, within capacity.
    mismatched = await db.fetch_all(
        "SELECT a.activity_id FROM activities a WHERE a.confirmed_count <> "
        "(SELECT COUNT(*) FROM signups s WHERE s.activity_id = a.activity_id "
        "AND s.status = 'confirmed') OR a.waitlist_count <> "
        "(SELECT COUNT(*) FROM signups s WHERE s.activity_id = a.activity_id "
        "AND s.status = 'waitlisted') OR a.confirmed_count > a.capacity"
    )
    assert mismatched == []
    # Activities around 12·5 are tagged for the campaign.
    tagged = await db.fetch_all("SELECT starts_at FROM activities WHERE key_date IS NOT NULL")
    assert tagged and all("-12-0" in row["starts_at"] for row in tagged)


async def test_personas_have_the_roles_they_claim(db: Database) -> None:
    await load_demo_data(db, NOW)
    volunteers = VolunteersRepository(db)
    organizations = OrganizationsRepository(db)
    for persona in PERSONAS:
        profile = await volunteers.get_profile(persona.telegram_id)
        assert (profile is not None) == (persona.role == "volunteer"), persona.key
        memberships = await organizations.memberships(persona.telegram_id)
        assert bool(memberships) == (persona.role == "organizer"), persona.key
    assert {p.telegram_id for p in PERSONAS if p.role == "admin"} == ADMIN_IDS
    assert len({p.key for p in PERSONAS}) == len(PERSONAS) == 8


async def test_an_application_waits_for_the_admin_personas(db: Database) -> None:
    await load_demo_data(db, NOW)
    rows = await db.fetch_all("SELECT name, applied_by FROM organizations WHERE status = 'pending'")
    assert [(row["name"], row["applied_by"]) for row in rows] == [
        ("Meixi Lake International School Volunteer Club", PERSONAS[1].telegram_id)
    ]
