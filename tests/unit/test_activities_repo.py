"""Storage for activities, sign-ups and the outbox (migrations 0004 and 0005).

* :class:`storage.activities.ActivitiesRepository`: creating, the menu's lists (upcoming with
  pages, counts per category), search (with ``%`` and ``_`` taken literally), the map box and
  the matching pre-filter;
* :class:`storage.signups.SignupsRepository`: the read side and the guarded counter updates;
* :class:`storage.outbox.OutboxRepository`: de-duplication and the delivery lease;
* :meth:`storage.volunteers.VolunteersRepository.delete_account`: withdrawing from what is
  still to come;
* the tables' own constraints, the last line of defence.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import (
    Activity,
    ActivityStatus,
    EndReason,
    NewActivity,
    Organization,
    PeopleServed,
    SignupStatus,
)
from bot.domain.geo import BoundingBox, Point, bounding_box
from bot.domain.matching import can_join
from bot.domain.notifications import Notification, NotificationKind
from bot.services.signups import SignupService
from storage.activities import MAX_SEARCH_WORDS, ActivitiesRepository
from storage.backends import open_database
from storage.db import Database, IntegrityError
from storage.migrate import load_migrations
from storage.outbox import MAX_ERROR_LENGTH, OutboxRepository, OutboxStatus
from storage.publishing import PublishingRepository
from storage.rosters import RostersRepository
from storage.signups import SignupsRepository
from storage.timeutil import to_db_time
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_volunteer

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


@pytest.fixture
def activities(db: Database) -> ActivitiesRepository:
    return ActivitiesRepository(db)


@pytest.fixture
def outbox(db: Database) -> OutboxRepository:
    return OutboxRepository(db)


def ids(items: Sequence[Any]) -> list[int]:
    return [item.activity_id for item in items]


# -- creating -------------------------------------------------------------------------------------


async def test_create_stores_every_field_and_reads_it_back(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    start = NOW + 3 * DAY
    created = await activities.create(
        NewActivity(
            organization_id=org.organization_id,
            title="  重阳节敬老  ",
            category_code="elderly_children",
            description="陪老人聊天",
            starts_at=start,
            ends_at=start + 2 * HOUR,
            place=" 天心区敬老院 ",
            area_code="tianxin",
            latitude=28.1,
            longitude=112.98,
            capacity=12,
            required_skills=("medical", "first_aid", "medical"),
            training_required=True,
            adults_only=True,
            people_served=(PeopleServed.EMPTY_NEST_ELDERLY, PeopleServed.DISABLED),
            signup_deadline=start - DAY,
            key_date="chongyang",
            leader_name="张老师",
        ),
        NOW,
    )

    assert created.title == "重阳节敬老"
    assert created.place == "天心区敬老院"
    assert created.organization_name == org.name
    assert (created.starts_at, created.ends_at) == (start, start + 2 * HOUR)
    assert created.starts_at.utcoffset() == timedelta(0)
    # Skills in the catalog's order (first_aid sorts before medical), without duplicates.
    assert created.required_skills == ("first_aid", "medical")
    assert created.people_served == (PeopleServed.DISABLED, PeopleServed.EMPTY_NEST_ELDERLY)
    assert (created.training_required, created.adults_only) == (True, True)
    assert created.signup_deadline == start - DAY
    assert created.signups_closed_at is None
    assert created.status is ActivityStatus.PUBLISHED
    assert (created.confirmed_count, created.offered_count, created.waitlist_count) == (0, 0, 0)
    assert created.has_location
    assert await activities.get(created.activity_id) == created


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "   "}, "title and a place"),
        ({"place": ""}, "title and a place"),
        ({"duration": timedelta(0)}, "end after it starts"),
    ],
)
async def test_create_refuses_an_incomplete_activity(
    db: Database, org: Organization, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await add_activity(db, org, **fields)


async def test_get_many_leaves_out_unknown_ids(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    first = await add_activity(db, org)
    found = await activities.get_many([first.activity_id, 999_999])
    assert list(found) == [first.activity_id]
    assert await activities.get_many([]) == {}
    assert await activities.get(999_999) is None


async def test_each_activity_gets_its_own_skills_in_catalogue_order_and_people_by_code(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    """Skills and people served come back from one query for a whole list: each activity gets
    its own, skills in the catalogue's order (photography 80 before driving 90, unlike their
    codes), people served by code."""
    both = await add_activity(
        db,
        org,
        required_skills=("driving", "photography"),
        people_served=(PeopleServed.NEW_EMPLOYMENT, PeopleServed.DISABLED),
    )
    skills_only = await add_activity(db, org, required_skills=("legal",))
    neither = await add_activity(db, org)
    people_only = await add_activity(db, org, people_served=(PeopleServed.LEFT_BEHIND_CHILDREN,))
    ids = [both.activity_id, skills_only.activity_id, neither.activity_id, people_only.activity_id]
    found = await activities.get_many(ids)

    def lists(activity: Activity) -> tuple[tuple[str, ...], tuple[str, ...]]:
        got = found[activity.activity_id]
        return got.required_skills, tuple(got.people_served)

    assert lists(both) == (("photography", "driving"), ("disabled", "new_employment"))
    assert lists(skills_only) == (("legal",), ())
    assert lists(neither) == ((), ())
    assert lists(people_only) == ((), ("left_behind_children",))


# -- the menu -------------------------------------------------------------------------------------


async def test_upcoming_lists_published_future_activities_by_start_then_id(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    later = await add_activity(db, org, starts_in=3 * DAY)
    same_start_a = await add_activity(db, org, starts_in=2 * DAY)
    same_start_b = await add_activity(db, org, starts_in=2 * DAY)
    await add_activity(db, org, starts_in=DAY, status=ActivityStatus.DRAFT)
    await add_activity(db, org, starts_in=DAY, status=ActivityStatus.CANCELLED)
    await add_activity(db, org, starts_at=NOW)  # starting right now: no longer upcoming
    await add_activity(db, org, starts_at=NOW - HOUR)

    page = await activities.upcoming(NOW)

    assert ids(page.items) == [
        same_start_a.activity_id,
        same_start_b.activity_id,
        later.activity_id,
    ]
    assert (page.total, page.page, page.pages) == (3, 0, 1)
    assert not page.has_previous
    assert not page.has_next


async def test_upcoming_pages(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    made = [await add_activity(db, org, starts_in=(i + 1) * HOUR) for i in range(5)]
    every = [a.activity_id for a in made]

    first = await activities.upcoming(NOW, page_size=2)
    second = await activities.upcoming(NOW, page=1, page_size=2)
    last = await activities.upcoming(NOW, page=2, page_size=2)

    assert [ids(p.items) for p in (first, second, last)] == [every[:2], every[2:4], every[4:]]
    assert (first.total, first.pages) == (5, 3)
    assert (first.has_previous, first.has_next) == (False, True)
    assert (second.has_previous, second.has_next) == (True, True)
    assert (last.has_previous, last.has_next) == (True, False)


async def test_a_stale_page_number_shows_the_last_page(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    """After the list shrank, "next" from an old message must not show an empty page."""
    made = [await add_activity(db, org, starts_in=(i + 1) * HOUR) for i in range(3)]
    beyond = await activities.upcoming(NOW, page=7, page_size=2)
    assert beyond.page == 1
    assert ids(beyond.items) == [made[2].activity_id]
    assert (await activities.upcoming(NOW, page=-3, page_size=2)).page == 0


async def test_an_empty_list_is_one_empty_page(activities: ActivitiesRepository) -> None:
    page = await activities.upcoming(NOW, page=4)
    assert (page.items, page.total, page.page, page.pages) == ((), 0, 0, 1)


async def test_upcoming_by_category_and_time_window(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    health_soon = await add_activity(db, org, starts_in=DAY)
    health_later = await add_activity(db, org, starts_in=10 * DAY)
    sports_soon = await add_activity(db, org, category_code="sports", starts_in=DAY)

    health = await activities.upcoming(NOW, category="health")
    assert ids(health.items) == [health_soon.activity_id, health_later.activity_id]

    this_week = await activities.upcoming(NOW, starts_before=NOW + 7 * DAY)
    assert ids(this_week.items) == [health_soon.activity_id, sports_soon.activity_id]

    window = await activities.upcoming(
        NOW, starts_from=health_later.starts_at, starts_before=health_later.starts_at + HOUR
    )
    assert ids(window.items) == [health_later.activity_id]  # from is inclusive
    empty = await activities.upcoming(NOW, starts_before=health_soon.starts_at)
    assert empty.items == ()  # before is exclusive


async def test_category_counts_count_only_upcoming_published_activities(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    for _ in range(2):
        await add_activity(db, org)
    await add_activity(db, org, category_code="sports")
    await add_activity(db, org, category_code="sports", status=ActivityStatus.DRAFT)
    await add_activity(db, org, category_code="culture", status=ActivityStatus.CANCELLED)
    await add_activity(db, org, category_code="education", starts_at=NOW - HOUR)

    assert await activities.category_counts(NOW) == {"health": 2, "sports": 1}


async def test_category_counts_are_kept_briefly_and_counted_again_after_any_change(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    """Kept for COUNTS_KEPT_FOR seconds at most (issue #14), but counted again at once after an
    activity is created, edited or cancelled here, and never used past a counted start."""
    first = await add_activity(db, org, starts_at=NOW + 2 * HOUR)
    await add_activity(db, org, category_code="sports")
    assert await activities.category_counts(NOW) == {"health": 1, "sports": 1}

    # Kept: a row written behind the repository's back (as another instance would) is not
    # seen yet ...
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET category_code = 'sports' WHERE activity_id = ?",
            (first.activity_id,),
        )
    assert await activities.category_counts(NOW) == {"health": 1, "sports": 1}
    assert await activities.category_counts(NOW + MINUTE) == {"health": 1, "sports": 1}
    # ... but a copy handed out is the caller's own.
    (await activities.category_counts(NOW))["health"] = 99
    # Moments before the counted ones (a clock set back) or past the first start are counted.
    assert await activities.category_counts(NOW - MINUTE) == {"sports": 2}
    assert await activities.category_counts(NOW + 2 * HOUR) == {"sports": 1}

    # Created, cancelled or edited through the repositories: counted again at once.
    await add_activity(db, org, category_code="culture")
    assert await activities.category_counts(NOW) == {"culture": 1, "sports": 2}
    third = await add_activity(db, org, category_code="culture")
    assert await activities.category_counts(NOW) == {"culture": 2, "sports": 2}
    async with db.transaction() as tx:
        assert await RostersRepository.mark_cancelled(tx, third.activity_id, "rain", NOW)
    assert await activities.category_counts(NOW) == {"culture": 1, "sports": 2}
    async with db.transaction() as tx:
        await PublishingRepository.update_activity(
            tx, first.activity_id, {"category_code": "health"}, NOW
        )
    assert await activities.category_counts(NOW) == {"culture": 1, "health": 1, "sports": 1}


async def test_a_change_rolled_back_or_not_made_leaves_the_counts_kept(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    activity = await add_activity(db, org)
    assert await activities.category_counts(NOW) == {"health": 1}
    async with db.transaction() as tx:  # a row behind the repository's back, as above
        await tx.execute("UPDATE activities SET category_code = 'sports'")

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction() as tx:
            await RostersRepository.mark_cancelled(tx, activity.activity_id, "rain", NOW)
            raise Undo
    # Nothing committed: the kept counts stay (the row written behind its back is not seen).
    assert await activities.category_counts(NOW) == {"health": 1}
    async with db.transaction() as tx:  # started already: nothing to cancel
        assert not await RostersRepository.mark_cancelled(
            tx, activity.activity_id, "rain", activity.starts_at
        )
    assert await activities.category_counts(NOW) == {"health": 1}


# -- search ---------------------------------------------------------------------------------------


async def test_search_looks_in_title_description_place_and_organization(
    db: Database, activities: ActivitiesRepository
) -> None:
    org = await add_organization(db, name="Green Hunan")
    other_org = await add_organization(db, name="岳麓区志愿者协会")
    by_title = await add_activity(db, other_org, title="河道清洁 River cleanup")
    by_description = await add_activity(db, other_org, description="带上手套 and gloves")
    by_place = await add_activity(db, other_org, place="橘子洲 Orange Isle")
    by_org = await add_activity(db, org, starts_in=6 * DAY)

    async def found(*words: str) -> list[int]:
        return ids((await activities.search(NOW, words)).items)

    assert await found("river") == [by_title.activity_id]
    assert await found("GLOVES") == [by_description.activity_id]  # case-insensitive (Latin)
    assert await found("橘子洲") == [by_place.activity_id]
    assert await found("green") == [by_org.activity_id]
    # The factory's place and description both mention 社区 (community): everything matches.
    assert await found("社区") == [
        by_title.activity_id,
        by_description.activity_id,
        by_place.activity_id,
        by_org.activity_id,
    ]
    assert await found("nowhere") == []


async def test_search_finds_category_and_skill_names_in_both_languages(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    """Titles are Chinese; "/search elderly" still finds 扶老爱幼 (Elderly and children)."""
    elderly = await add_activity(db, org, title="重阳敬老", category_code="elderly_children")
    await add_activity(db, org, title="河道清洁", category_code="environment")
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO activity_skills (activity_id, skill_code) VALUES (?, 'first_aid')",
            (elderly.activity_id,),
        )

    async def found(*words: str) -> list[int]:
        return ids((await activities.search(NOW, words)).items)

    assert await found("elderly") == [elderly.activity_id]  # the category's English name
    assert await found("扶老爱幼") == [elderly.activity_id]  # its Chinese name
    assert await found("First Aid") == [elderly.activity_id]  # a skill, with a space
    assert await found("急救") == [elderly.activity_id]


async def test_search_tolerates_traditional_full_width_and_spacing(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    clinic = await add_activity(db, org, title="社区义诊 测血压", description="")

    async def found(*words: str) -> list[int]:
        return ids((await activities.search(NOW, words)).items)

    assert await found("義診") == [clinic.activity_id]  # traditional characters
    assert await found("義診測血壓") == [clinic.activity_id]  # and no space where the title has one
    assert await found("社区 义诊") == [clinic.activity_id]
    assert await found("ｓｈｅｑｕ") == []  # full-width letters are folded, and match nothing here
    await add_activity(db, org, title="Yoga class", description="")
    assert len(await found("ＹＯＧＡ")) == 1


async def test_search_needs_every_word(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    both = await add_activity(db, org, title="周末 河道清洁")
    await add_activity(db, org, title="周末 图书整理")
    result = await activities.search(NOW, ["周末", "清洁"])
    assert ids(result.items) == [both.activity_id]
    assert result.total == 1


async def test_search_takes_percent_underscore_and_backslash_literally(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    """``%`` and ``_`` are LIKE wildcards; typed by a user they must mean themselves."""
    percent = await add_activity(db, org, title="100% 公益跑", description="")
    plain = await add_activity(db, org, title="1000 人健步走", description="")
    underscore = await add_activity(db, org, title="code_club 编程", description="")
    no_underscore = await add_activity(db, org, title="codeXclub 编程", description="")
    backslash = await add_activity(db, org, title="C:\\temp 整理", description="")

    async def found(word: str) -> list[int]:
        return ids((await activities.search(NOW, [word])).items)

    assert await found("100%") == [percent.activity_id]
    assert await found("%") == [percent.activity_id]
    assert await found("e_c") == [underscore.activity_id]
    assert await found("_") == [underscore.activity_id]
    assert await found("\\") == [backslash.activity_id]
    assert plain.activity_id in await found("100")
    assert no_underscore.activity_id in await found("club")


async def test_search_skips_past_activities_and_uses_at_most_five_words(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    current = await add_activity(db, org, title="a b c d e")
    await add_activity(db, org, title="a b c d e", starts_at=NOW - HOUR)
    words = ["a", "b", "c", "d", "e", "not-there"]
    assert MAX_SEARCH_WORDS == 5
    assert ids((await activities.search(NOW, words)).items) == [current.activity_id]
    assert (await activities.search(NOW, ["not-there"])).total == 0


async def test_search_pages_like_the_menu(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    made = [await add_activity(db, org, starts_in=(i + 1) * HOUR) for i in range(3)]
    second = await activities.search(NOW, ["义诊"], page=1, page_size=2)
    assert ids(second.items) == [made[2].activity_id]
    assert (second.total, second.pages) == (3, 2)


# -- map box and matching pre-filter --------------------------------------------------------------


async def test_upcoming_in_box_keeps_pinned_activities_inside_the_box(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    centre = Point(28.2, 112.98)
    near_later = await add_activity(db, org, latitude=28.21, longitude=112.99, starts_in=3 * DAY)
    near_sooner = await add_activity(db, org, latitude=28.19, longitude=112.97, starts_in=DAY)
    await add_activity(db, org, latitude=29.0, longitude=112.98)  # ~90 km north
    await add_activity(db, org)  # no pin
    await add_activity(db, org, latitude=28.2, longitude=112.98, starts_at=NOW - HOUR)

    box = bounding_box(centre, 5.0)
    found = await activities.upcoming_in_box(NOW, box, limit=10)

    assert ids(found) == [near_sooner.activity_id, near_later.activity_id]
    assert ids(await activities.upcoming_in_box(NOW, box, limit=1)) == [near_sooner.activity_id]
    edge = BoundingBox(28.21, 28.3, 112.99, 113.0)  # bounds are inclusive
    assert ids(await activities.upcoming_in_box(NOW, edge, limit=10)) == [near_later.activity_id]


async def test_candidates_share_a_category_a_skill_the_area_or_the_neighbourhood(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    # By default an activity here shares nothing with the volunteer below.
    common: dict[str, Any] = {"category_code": "sports", "area_code": "liuyang"}
    by_category = await add_activity(db, org, category_code="health", area_code="liuyang")
    by_skill = await add_activity(
        db, org, required_skills=("first_aid",), starts_in=6 * DAY, **common
    )
    by_area = await add_activity(db, org, category_code="sports", starts_in=7 * DAY)
    by_box = await add_activity(
        db, org, latitude=28.2, longitude=112.98, starts_in=8 * DAY, **common
    )
    await add_activity(db, org, starts_in=9 * DAY, **common)  # shares nothing
    await add_activity(db, org, category_code="health", starts_in=90 * DAY)  # beyond horizon
    await add_activity(db, org, category_code="health", status=ActivityStatus.DRAFT)

    volunteer = await add_volunteer(
        db, categories=("health",), skills=("first_aid",), area_code="furong"
    )

    async def candidates(**overrides: Any) -> list[int]:
        arguments: dict[str, Any] = {
            "horizon": NOW + 60 * DAY,
            "box": bounding_box(Point(28.2, 112.98), 5.0),
            "limit": 50,
        }
        shares: dict[str, Any] = {
            k: overrides.pop(k) for k in ("categories", "skills", "area_code") if k in overrides
        }
        arguments.update(overrides)
        who = volunteer.model_copy(update=shares)
        return ids(await activities.candidates(NOW, volunteer=who, **arguments))

    every = [by_category, by_skill, by_area, by_box]
    assert await candidates() == [a.activity_id for a in every]
    assert await candidates(skills=(), area_code=None, box=None) == [by_category.activity_id]
    assert await candidates(categories=(), area_code=None, box=None) == [by_skill.activity_id]
    assert await candidates(categories=(), skills=(), box=None) == [by_area.activity_id]
    assert await candidates(categories=(), skills=(), area_code=None) == [by_box.activity_id]
    assert await candidates(limit=2) == [by_category.activity_id, by_skill.activity_id]
    assert await candidates(horizon=NOW + 6 * DAY) == [by_category.activity_id]


async def test_no_candidates_when_nothing_is_shared(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    await add_activity(db, org)
    registered = await add_volunteer(db, skills=(), area_code=None)
    volunteer = registered.model_copy(update={"categories": ()})
    found = await activities.candidates(
        NOW, horizon=NOW + 60 * DAY, volunteer=volunteer, box=None, limit=10
    )
    assert found == []


async def test_candidates_leave_out_what_the_volunteer_could_not_join(
    db: Database, activities: ActivitiesRepository, org: Organization
) -> None:
    """Left out by the query, so the limit counts only what matching may suggest; each left
    out one is also refused by ``matching.can_join`` (checked), and nothing it accepts is lost."""
    adult = await add_volunteer(db, categories=("health",), skills=("first_aid",))
    minor = await add_volunteer(
        db, categories=("health",), birth_date=date(2012, 1, 1), is_minor=True
    )
    health: dict[str, Any] = {"category_code": "health", "area_code": "liuyang"}
    open_one = await add_activity(db, org, starts_in=2 * DAY, **health)
    deadline_ahead = await add_activity(
        db, org, starts_in=3 * DAY, signup_deadline=NOW + DAY, **health
    )
    held_skill = await add_activity(
        db, org, starts_in=4 * DAY, required_skills=("first_aid",), **health
    )
    adults = await add_activity(db, org, starts_in=5 * DAY, adults_only=True, **health)
    past_deadline = await add_activity(
        db, org, starts_in=6 * DAY, signup_deadline=NOW - HOUR, **health
    )
    lacking = await add_activity(
        db, org, starts_in=7 * DAY, required_skills=("first_aid", "driving"), **health
    )
    closed = await add_activity(db, org, starts_in=8 * DAY, **health)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET signups_closed_at = ? WHERE activity_id = ?",
            (to_db_time(NOW - HOUR), closed.activity_id),
        )
    mine = await add_activity(db, org, starts_in=9 * DAY, **health)
    await save(
        db, mine.activity_id, adult.volunteer_id, SignupStatus.CONFIRMED, counter="confirmed"
    )

    async def found(who: Any) -> list[int]:
        return ids(
            await activities.candidates(
                NOW, horizon=NOW + 60 * DAY, volunteer=who, box=None, limit=50
            )
        )

    assert await found(adult) == [
        open_one.activity_id,
        deadline_ahead.activity_id,
        held_skill.activity_id,
        adults.activity_id,
    ]
    # The minor holds no skill and may not join adults-only ones; the adult's sign-up is not theirs.
    assert await found(minor) == [
        open_one.activity_id,
        deadline_ahead.activity_id,
        mine.activity_id,
    ]
    for left_out in (past_deadline, lacking, closed):
        activity = await activities.get(left_out.activity_id)
        assert activity is not None and not can_join(activity, adult, NOW)


# -- sign-ups: guarded counters and the read side -------------------------------------------------


async def save(
    db: Database,
    activity_id: int,
    volunteer_id: int,
    status: SignupStatus,
    now: datetime = NOW,
    *,
    counter: str | None = None,
) -> int:
    """Store a sign-up row (and bump ``counter``) the way the service does, in one transaction."""
    async with db.transaction() as tx:
        signup = await SignupsRepository.save(
            tx,
            activity_id,
            volunteer_id,
            status,
            now,
            queued_at=now if status is SignupStatus.WAITLISTED else None,
        )
        if counter is not None:
            await SignupsRepository.adjust_counts(tx, activity_id, **{counter: 1})
    return signup.signup_id


async def test_take_spot_stops_at_capacity(db: Database, org: Organization) -> None:
    activity = await add_activity(db, org, capacity=2)
    taken = []
    async with db.transaction() as tx:
        for _ in range(3):
            taken.append(await SignupsRepository.take_spot(tx, activity.activity_id))
    assert taken == [True, True, False]
    stored = await ActivitiesRepository(db).get(activity.activity_id)
    assert stored is not None
    assert stored.confirmed_count == 2


async def test_hold_spot_for_offer_needs_a_free_spot_and_someone_waiting(
    db: Database, org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    async with db.transaction() as tx:
        assert not await SignupsRepository.hold_spot_for_offer(tx, activity.activity_id)
        await SignupsRepository.adjust_counts(tx, activity.activity_id, waitlist=2)
        assert await SignupsRepository.hold_spot_for_offer(tx, activity.activity_id)
        assert not await SignupsRepository.hold_spot_for_offer(tx, activity.activity_id)
        await SignupsRepository.adjust_counts(tx, activity.activity_id, offered=-1, waitlist=-1)
    stored = await ActivitiesRepository(db).get(activity.activity_id)
    assert stored is not None
    assert (stored.offered_count, stored.waitlist_count) == (0, 0)


async def test_overbooking_is_refused_by_the_table_itself(db: Database, org: Organization) -> None:
    """Even a buggy caller cannot count more than the capacity, or below zero."""
    activity = await add_activity(db, org, capacity=1)
    for counts in ({"confirmed": 2}, {"confirmed": 1, "offered": 1}, {"waitlist": -1}):
        with pytest.raises(IntegrityError):
            async with db.transaction() as tx:
                await SignupsRepository.adjust_counts(tx, activity.activity_id, **counts)


async def test_waitlist_position_counts_those_queued_earlier(
    db: Database, org: Organization
) -> None:
    activity = await add_activity(db, org)
    people = [await add_volunteer(db) for _ in range(3)]
    signups = SignupsRepository(db)
    for minutes, person in zip((2, 1, 3), people, strict=True):
        await save(
            db,
            activity.activity_id,
            person.volunteer_id,
            SignupStatus.WAITLISTED,
            NOW + timedelta(minutes=minutes),
        )
    positions = []
    for person in people:
        signup = await signups.get(activity.activity_id, person.volunteer_id)
        assert signup is not None
        positions.append(await signups.waitlist_position(signup))
    assert positions == [2, 1, 3]


async def test_waitlist_position_breaks_a_tie_on_the_row_id(
    db: Database, org: Organization
) -> None:
    activity = await add_activity(db, org)
    first, second = [await add_volunteer(db) for _ in range(2)]
    signups = SignupsRepository(db)
    for person in (first, second):
        await save(db, activity.activity_id, person.volunteer_id, SignupStatus.WAITLISTED)
    for person, expected in ((first, 1), (second, 2)):
        signup = await signups.get(activity.activity_id, person.volunteer_id)
        assert signup is not None
        assert await signups.waitlist_position(signup) == expected


async def test_a_confirmed_sign_up_has_no_waitlist_position(
    db: Database, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    signup_id = await save(db, activity.activity_id, volunteer.volunteer_id, SignupStatus.CONFIRMED)
    signups = SignupsRepository(db)
    signup = await signups.get_by_id(signup_id)
    assert signup is not None
    assert await signups.waitlist_position(signup) is None
    assert await signups.get_by_id(999_999) is None
    assert await signups.get(activity.activity_id, 999_999) is None


async def test_active_activity_ids_are_the_confirmed_waiting_and_offered_ones(
    db: Database, org: Organization
) -> None:
    volunteer = await add_volunteer(db)
    confirmed, waiting, offered, cancelled = [
        await add_activity(db, org, starts_in=(i + 2) * DAY) for i in range(4)
    ]
    await save(db, confirmed.activity_id, volunteer.volunteer_id, SignupStatus.CONFIRMED)
    await save(db, waiting.activity_id, volunteer.volunteer_id, SignupStatus.WAITLISTED)
    offered_id = await save(
        db, offered.activity_id, volunteer.volunteer_id, SignupStatus.WAITLISTED
    )
    cancelled_id = await save(
        db, cancelled.activity_id, volunteer.volunteer_id, SignupStatus.CONFIRMED
    )
    async with db.transaction() as tx:
        await SignupsRepository.offer(tx, offered_id, NOW + HOUR, NOW)
        await SignupsRepository.end(tx, cancelled_id, EndReason.VOLUNTEER, NOW)

    assert await SignupsRepository(db).active_activity_ids(volunteer.volunteer_id) == frozenset(
        {confirmed.activity_id, waiting.activity_id, offered.activity_id}
    )


async def test_my_sign_ups_leave_out_cancelled_activities(db: Database, org: Organization) -> None:
    """A sign-up for an activity the organizer cancelled is neither upcoming nor a record."""
    volunteer = await add_volunteer(db)
    kept = await add_activity(db, org, starts_in=2 * DAY)
    called_off = await add_activity(db, org, starts_in=3 * DAY, status=ActivityStatus.CANCELLED)
    for activity in (kept, called_off):
        await save(db, activity.activity_id, volunteer.volunteer_id, SignupStatus.CONFIRMED)
    signups = SignupsRepository(db)

    upcoming = await signups.for_volunteer(volunteer.volunteer_id, NOW, upcoming=True, limit=10)
    assert [m.activity.activity_id for m in upcoming] == [kept.activity_id]
    past = await signups.for_volunteer(
        volunteer.volunteer_id, NOW + 10 * DAY, upcoming=False, limit=10
    )
    assert [m.activity.activity_id for m in past] == [kept.activity_id]


async def test_past_sign_ups_are_latest_first(db: Database, org: Organization) -> None:
    volunteer = await add_volunteer(db)
    older = await add_activity(db, org, starts_in=DAY)
    newer = await add_activity(db, org, starts_in=2 * DAY)
    for activity in (older, newer):
        await save(db, activity.activity_id, volunteer.volunteer_id, SignupStatus.CONFIRMED)
    past = await SignupsRepository(db).for_volunteer(
        volunteer.volunteer_id, NOW + 5 * DAY, upcoming=False, limit=10
    )
    assert [m.activity.activity_id for m in past] == [newer.activity_id, older.activity_id]


# -- the outbox -----------------------------------------------------------------------------------

ALICE = 700_001
BOB = 700_002
LEASE = timedelta(minutes=5)


def notification(
    subject: str = "signup:1",
    *,
    telegram_id: int = ALICE,
    kind: NotificationKind = NotificationKind.WAITLIST_OFFER,
    due_at: datetime = NOW,
) -> Notification:
    return Notification(
        kind=kind,
        telegram_id=telegram_id,
        subject=subject,
        payload={"signup_id": 1, "note": subject},
        due_at=due_at,
    )


async def enqueue(db: Database, *notifications: Notification) -> list[bool]:
    async with db.transaction() as tx:
        return [await OutboxRepository.enqueue(tx, n, NOW) for n in notifications]


async def test_enqueue_stores_a_notification_once(db: Database, outbox: OutboxRepository) -> None:
    """The key is (kind, recipient, subject): planning the same message twice stores it once."""
    stored = await enqueue(
        db,
        notification("signup:1"),
        notification("signup:1"),  # the same again
        notification("signup:2"),
        notification("signup:1", kind=NotificationKind.OFFER_EXPIRED),
        notification("signup:1", telegram_id=BOB),
    )
    assert stored == [True, False, True, True, True]
    assert await outbox.counts() == {"pending": 4}
    assert notification("signup:1").dedup_key == f"waitlist_offer:{ALICE}:signup:1"


async def test_claim_due_leases_due_rows_soonest_first(
    db: Database, outbox: OutboxRepository
) -> None:
    await enqueue(
        db,
        notification("later", due_at=NOW + HOUR),
        notification("now", due_at=NOW),
        notification("earlier", due_at=NOW - HOUR),
    )

    claimed = await outbox.claim_due(NOW, LEASE, limit=10)

    assert [item.payload["note"] for item in claimed] == ["earlier", "now"]
    assert [item.attempts for item in claimed] == [1, 1]
    assert claimed[0].kind is NotificationKind.WAITLIST_OFFER
    assert claimed[0].telegram_id == ALICE
    assert claimed[0].due_at == NOW - HOUR
    assert claimed[0].payload == {"signup_id": 1, "note": "earlier"}
    # An hour later the leases have run out: all three are due, the limit takes the soonest.
    only_one = await outbox.claim_due(NOW + HOUR, LEASE, limit=1)
    assert [(item.payload["note"], item.attempts) for item in only_one] == [("earlier", 2)]
    rest = await outbox.claim_due(NOW + HOUR, LEASE, limit=10)
    assert [item.payload["note"] for item in rest] == ["now", "later"]


async def test_a_leased_row_is_not_claimed_again_until_the_lease_expires(
    db: Database, outbox: OutboxRepository
) -> None:
    await enqueue(db, notification())
    (first,) = await outbox.claim_due(NOW, LEASE, limit=10)

    assert await outbox.claim_due(NOW, LEASE, limit=10) == []
    assert await outbox.claim_due(NOW + LEASE - timedelta(microseconds=1), LEASE, 10) == []

    # The deliverer crashed: once the lease runs out, the row is due again.
    (again,) = await outbox.claim_due(NOW + LEASE, LEASE, limit=10)
    assert again.notification_id == first.notification_id
    assert again.attempts == 2


async def test_two_deliverers_on_two_connections_never_claim_a_row_twice(
    db: Database, db_path: Path
) -> None:
    """Two bot processes deliver from one outbox: every due row is leased by exactly one."""
    await enqueue(db, *(notification(f"signup:{n}", telegram_id=ALICE + n) for n in range(60)))
    other = await open_database(db_path)
    try:
        claims = await asyncio.gather(
            *(
                OutboxRepository(connection).claim_due(NOW, LEASE, limit=7)
                for connection in [db, other] * 6
            )
        )
    finally:
        await other.close()
    claimed = [item.notification_id for batch in claims for item in batch]
    assert len(claimed) == len(set(claimed)) == 60
    assert {item.attempts for batch in claims for item in batch} == {1}


async def test_a_finished_row_is_never_claimed_again(
    db: Database, outbox: OutboxRepository
) -> None:
    await enqueue(db, notification("a"), notification("b"))
    sent, dropped = await outbox.claim_due(NOW, LEASE, limit=10)
    await outbox.finish(sent.notification_id, OutboxStatus.SENT, NOW)
    await outbox.finish(dropped.notification_id, OutboxStatus.DROPPED, NOW, "x" * 600)

    assert await outbox.claim_due(NOW + 2 * LEASE, LEASE, limit=10) == []
    assert await outbox.counts() == {"sent": 1, "dropped": 1}
    rows = await outbox.for_recipient(ALICE)
    assert [row["last_error"] for row in rows] == [None, "x" * MAX_ERROR_LENGTH]


async def test_retry_at_releases_the_lease_and_makes_the_row_due_later(
    db: Database, outbox: OutboxRepository
) -> None:
    await enqueue(db, notification())
    (item,) = await outbox.claim_due(NOW, LEASE, limit=10)

    await outbox.retry_at(item.notification_id, NOW + 2 * LEASE, "429 Too Many Requests")

    assert await outbox.claim_due(NOW + LEASE, LEASE, limit=10) == []  # lease gone, not due yet
    (retried,) = await outbox.claim_due(NOW + 2 * LEASE, LEASE, limit=10)
    assert retried.attempts == 2
    assert retried.due_at == NOW + 2 * LEASE
    (row,) = await outbox.for_recipient(ALICE)
    assert (row["status"], row["last_error"]) == ("pending", "429 Too Many Requests")


async def test_drop_pending_for_drops_only_that_recipients_pending_rows(
    db: Database, outbox: OutboxRepository
) -> None:
    await enqueue(
        db,
        notification("sent"),
        notification("leased", due_at=NOW + timedelta(seconds=1)),
        notification("waiting", due_at=NOW + DAY),
        notification("bob's", telegram_id=BOB),
    )
    claimed = await outbox.claim_due(NOW + timedelta(seconds=1), LEASE, limit=10)
    alice_sent = next(item for item in claimed if item.payload["note"] == "sent")
    await outbox.finish(alice_sent.notification_id, OutboxStatus.SENT, NOW)

    dropped = await outbox.drop_pending_for(ALICE, NOW, "blocked the bot")

    assert dropped == 2  # "leased" and "waiting"; "sent" stays sent
    rows = await outbox.for_recipient(ALICE)
    assert [(json.loads(r["payload"])["note"], r["status"]) for r in rows] == [
        ("sent", "sent"),
        ("leased", "dropped"),
        ("waiting", "dropped"),
    ]
    assert rows[1]["last_error"] == "blocked the bot"
    assert [r["status"] for r in await outbox.for_recipient(BOB)] == ["pending"]
    claimable = await outbox.claim_due(NOW + 2 * DAY, LEASE, limit=10)
    assert [item.telegram_id for item in claimable] == [BOB]


async def test_a_row_of_an_unknown_kind_is_skipped_not_fatal(
    db: Database, outbox: OutboxRepository, caplog: pytest.LogCaptureFixture
) -> None:
    """A row written by a newer version (a kind this one does not know) is left alone."""
    await enqueue(db, notification())
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO outbox (dedup_key, kind, telegram_id, due_at, created_at) "
            "VALUES ('future:1', 'from_the_future', ?, ?, ?)",
            (ALICE, to_db_time(NOW - HOUR), to_db_time(NOW)),
        )
    claimed = await outbox.claim_due(NOW, LEASE, limit=10)
    assert [item.kind for item in claimed] == [NotificationKind.WAITLIST_OFFER]
    assert "unknown kind" in caplog.text


# -- account deletion -----------------------------------------------------------------------------


async def recount(db: Database, activity_id: int) -> tuple[int, int, int]:
    """(confirmed, offered, waitlisted) counted from the rows; asserted equal to the counters."""
    rows = await db.fetch_all(
        "SELECT status, COUNT(*) AS n FROM signups WHERE activity_id = ? GROUP BY status",
        (activity_id,),
    )
    counted = {row["status"]: row["n"] for row in rows}
    from_rows = (
        counted.get("confirmed", 0),
        counted.get("offered", 0),
        counted.get("waitlisted", 0),
    )
    stored = await ActivitiesRepository(db).get(activity_id)
    assert stored is not None
    assert (stored.confirmed_count, stored.offered_count, stored.waitlist_count) == from_rows
    return from_rows


async def test_deleting_an_account_withdraws_from_unfinished_activities(
    db: Database, org: Organization
) -> None:
    """The volunteer is confirmed for A, waiting for B, offered a spot of C, was at D (over)
    and is at E (under way) when deleting the account, three hours after ``NOW``."""
    clock = ManualClock(NOW)
    service = SignupService(
        db,
        VolunteersRepository(db),
        ActivitiesRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        ZoneInfo("Asia/Shanghai"),
    )
    leaving, staying, holder_b, holder_c = [await add_volunteer(db) for _ in range(4)]
    a = await add_activity(db, org, capacity=5)
    b = await add_activity(db, org, capacity=1, starts_in=6 * DAY)
    c = await add_activity(db, org, capacity=1, starts_in=7 * DAY)
    d = await add_activity(db, org, starts_in=HOUR, duration=HOUR)
    e = await add_activity(db, org, starts_in=2 * HOUR, duration=3 * HOUR)
    for activity in (a, d, e):
        await service.sign_up(leaving.telegram_id, activity.activity_id)
    await service.sign_up(staying.telegram_id, a.activity_id)
    await service.sign_up(holder_b.telegram_id, b.activity_id)
    await service.join_waitlist(leaving.telegram_id, b.activity_id)
    await service.sign_up(holder_c.telegram_id, c.activity_id)
    await service.join_waitlist(leaving.telegram_id, c.activity_id)
    await service.cancel(holder_c.telegram_id, c.activity_id)  # the spot is offered to leaving
    await enqueue(db, notification("staying's", telegram_id=staying.telegram_id))
    assert await recount(db, c.activity_id) == (0, 1, 0)
    deleted_at = clock.advance(3 * HOUR)

    report = await VolunteersRepository(db).delete_account(leaving.telegram_id, deleted_at)

    assert report.volunteer_id == leaving.volunteer_id
    signups = SignupsRepository(db)
    statuses = {}
    for activity in (a, b, c, d, e):
        signup = await signups.get(activity.activity_id, leaving.volunteer_id)
        assert signup is not None
        statuses[activity.activity_id] = signup.status
        if signup.status is SignupStatus.CANCELLED:
            assert signup.end_reason is EndReason.VOLUNTEER
            assert signup.ended_at == deleted_at
            assert (signup.offer_expires_at, signup.queued_at) == (None, None)
    assert statuses == {
        a.activity_id: SignupStatus.CANCELLED,
        b.activity_id: SignupStatus.CANCELLED,
        c.activity_id: SignupStatus.CANCELLED,
        d.activity_id: SignupStatus.CONFIRMED,  # finished: the service record stays
        e.activity_id: SignupStatus.CANCELLED,  # not finished yet
    }
    assert await recount(db, a.activity_id) == (1, 0, 0)  # the other volunteer stays
    assert await recount(db, b.activity_id) == (1, 0, 0)
    assert await recount(db, c.activity_id) == (0, 0, 0)
    assert await recount(db, d.activity_id) == (1, 0, 0)
    assert await recount(db, e.activity_id) == (0, 0, 0)

    # The pending offer message is dropped; nobody else's messages are touched.
    rows = await OutboxRepository(db).for_recipient(leaving.telegram_id)
    assert [(r["kind"], r["status"], r["last_error"]) for r in rows] == [
        ("waitlist_offer", "dropped", "account deleted")
    ]
    others = await OutboxRepository(db).for_recipient(staying.telegram_id)
    assert [r["status"] for r in others] == ["pending"]


# -- the schema (migrations 0004 and 0005) --------------------------------------------------------


async def test_migrations_0004_and_0005_are_packaged() -> None:
    labels = [migration.label for migration in load_migrations()]
    assert labels[3:5] == ["0004_activities", "0005_outbox"]


async def test_the_new_tables_exist(db: Database) -> None:
    for table in (
        "organizations",
        "organization_members",
        "activities",
        "activity_skills",
        "activity_people_served",
        "signups",
        "outbox",
    ):
        assert await db.has_table(table), table


async def insert_activity_row(db: Database, org: Organization, **columns: Any) -> None:
    values: dict[str, Any] = {
        "organization_id": org.organization_id,
        "title": "t",
        "category_code": "health",
        "starts_at": to_db_time(NOW + DAY),
        "ends_at": to_db_time(NOW + DAY + HOUR),
        "place": "p",
        "capacity": 1,
        "status": "published",
        "created_at": to_db_time(NOW),
        "updated_at": to_db_time(NOW),
    }
    values.update(columns)
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    async with db.transaction() as tx:
        await tx.execute(
            f"INSERT INTO activities ({names}) VALUES ({marks})", list(values.values())
        )


@pytest.mark.parametrize(
    "columns",
    [
        {"ends_at": to_db_time(NOW + DAY)},  # ends when it starts
        {"latitude": 28.2},  # a latitude without a longitude
        {"latitude": 91.0, "longitude": 112.0},
        {"capacity": 0},
        {"capacity": 10_001},
        {"status": "archived"},
        {"category_code": "no_such_category"},  # foreign key
        {"confirmed_count": 1, "offered_count": 1},  # over capacity
    ],
)
async def test_activities_table_checks(
    db: Database, org: Organization, columns: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError):
        await insert_activity_row(db, org, **columns)


async def test_a_valid_raw_activity_row_is_accepted(db: Database, org: Organization) -> None:
    """The control for the checks above: the same row without the fault goes in."""
    await insert_activity_row(db, org, latitude=28.2, longitude=112.9)
    assert (await ActivitiesRepository(db).upcoming(NOW)).total == 1


async def insert_signup_row(
    db: Database, activity_id: int, volunteer_id: int, **columns: Any
) -> None:
    values: dict[str, Any] = {
        "activity_id": activity_id,
        "volunteer_id": volunteer_id,
        "status": "confirmed",
        "created_at": to_db_time(NOW),
        "status_at": to_db_time(NOW),
    }
    values.update(columns)
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    async with db.transaction() as tx:
        await tx.execute(f"INSERT INTO signups ({names}) VALUES ({marks})", list(values.values()))


@pytest.mark.parametrize(
    "columns",
    [
        {"status": "offered"},  # an offer needs its deadline
        {"status": "confirmed", "offer_expires_at": to_db_time(NOW)},  # only offers have one
        {"status": "cancelled"},  # a cancelled row needs its reason
        {"status": "confirmed", "end_reason": "volunteer"},
        {"status": "cancelled", "end_reason": "bored"},
        {"status": "maybe"},
    ],
)
async def test_signups_table_checks(
    db: Database, org: Organization, columns: dict[str, Any]
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    with pytest.raises(IntegrityError):
        await insert_signup_row(db, activity.activity_id, volunteer.volunteer_id, **columns)


async def test_one_signup_row_per_volunteer_and_activity(db: Database, org: Organization) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await insert_signup_row(db, activity.activity_id, volunteer.volunteer_id)
    with pytest.raises(IntegrityError):
        await insert_signup_row(db, activity.activity_id, volunteer.volunteer_id)
    with pytest.raises(IntegrityError):  # foreign key: no such volunteer
        await insert_signup_row(db, activity.activity_id, 999_999)


async def test_outbox_table_checks(db: Database) -> None:
    await enqueue(db, notification())
    for sql in (
        "INSERT INTO outbox (dedup_key, kind, telegram_id, due_at, created_at) "
        f"VALUES ('{notification().dedup_key}', 'waitlist_offer', 1, 'x', 'x')",
        "INSERT INTO outbox (dedup_key, kind, telegram_id, due_at, created_at, status) "
        "VALUES ('other', 'waitlist_offer', 1, 'x', 'x', 'lost')",
    ):
        with pytest.raises(IntegrityError):
            async with db.transaction() as tx:
                await tx.execute(sql)
