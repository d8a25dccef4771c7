"""Builders of stored test data: users, volunteer profiles, organizations, activities and
notifications waiting in the outbox.

They write through the real repositories (never raw SQL), so what a test sets up is what the
bot would have stored itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain.activities import (
    Activity,
    ActivityStatus,
    NewActivity,
    NewOrganization,
    Organization,
    OrganizationStatus,
    OrganizationType,
)
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.users import TelegramIdentity
from bot.domain.volunteers import DraftData, Slot, VolunteerProfile
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository

_telegram_ids = itertools.count(500_001)

#: A fixed "now" for unit tests: Monday 2026-11-23 10:00 in Shanghai.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def add_user(
    db: Database, telegram_id: int | None = None, *, first_name: str = "Test", now: datetime = NOW
) -> int:
    telegram_id = telegram_id if telegram_id is not None else next(_telegram_ids)
    await UsersRepository(db).touch(
        TelegramIdentity(
            telegram_id=telegram_id,
            first_name=first_name,
            last_name=None,
            username=None,
            language_code="en",
        ),
        now,
    )
    return telegram_id


async def add_volunteer(
    db: Database,
    telegram_id: int | None = None,
    *,
    name: str = "王小明",
    categories: tuple[str, ...] = ("health",),
    skills: tuple[str, ...] = (),
    availability: int = int(Slot.WEEKEND_MORNING | Slot.WEEKDAY_EVENING),
    area_code: str | None = "furong",
    birth_date: date = date(1990, 5, 1),
    is_minor: bool = False,
    now: datetime = NOW,
) -> VolunteerProfile:
    """A registered volunteer (creating the ``users`` row too)."""
    telegram_id = await add_user(db, telegram_id, first_name=name, now=now)
    data = DraftData(
        consent_version="test",
        consent_at=now,
        real_name=name,
        phone=f"+86138{telegram_id % 100_000_000:08d}",
        gender_answered=True,
        birth_date=birth_date,
        guardian_consent_at=now if is_minor else None,
        area_code=area_code,
        skills=list(skills),
        categories=list(categories),
        availability=availability,
    )
    return await VolunteersRepository(db).create_profile(
        telegram_id, data, is_minor=is_minor, now=now
    )


async def add_organization(
    db: Database,
    *,
    name: str = "芙蓉区青年志愿者协会",
    org_type: OrganizationType = OrganizationType.VOLUNTEER_TEAM,
    status: OrganizationStatus = OrganizationStatus.APPROVED,
    now: datetime = NOW,
) -> Organization:
    return await OrganizationsRepository(db).create(
        NewOrganization(
            name=name,
            org_type=org_type,
            area_code="furong",
            contact_name="李老师",
            contact_phone="+8613800000000",
            status=status,
        ),
        now,
    )


async def add_activity(
    db: Database,
    organization: Organization | int,
    *,
    starts_in: timedelta = timedelta(days=5),
    duration: timedelta = timedelta(hours=3),
    now: datetime = NOW,
    starts_at: datetime | None = None,
    **fields: Any,
) -> Activity:
    """A published activity starting ``starts_in`` after ``now`` (or at ``starts_at``)."""
    organization_id = (
        organization.organization_id if isinstance(organization, Organization) else organization
    )
    start = starts_at if starts_at is not None else now + starts_in
    values: dict[str, Any] = {
        "organization_id": organization_id,
        "title": "社区健康义诊",
        "category_code": "health",
        "description": "为社区老人测量血压、讲解健康知识。",
        "starts_at": start,
        "ends_at": start + duration,
        "place": "芙蓉区定王台街道社区服务中心",
        "area_code": "furong",
        "capacity": 10,
    }
    values.update(fields)
    return await ActivitiesRepository(db).create(NewActivity(**values), now)


def activity_model(starts_at: datetime, **fields: Any) -> Activity:
    """An :class:`Activity` built in memory (no database), for pure domain tests: published,
    open and empty, three hours long, no area, pin or requirements; ``fields`` change any."""
    values: dict[str, Any] = {
        "activity_id": 1,
        "organization_id": 1,
        "organization_name": "芙蓉区青年志愿者协会",
        "title": "社区健康义诊",
        "category_code": "health",
        "description": "",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "place": "社区服务中心",
        "area_code": None,
        "latitude": None,
        "longitude": None,
        "capacity": 10,
        "required_skills": (),
        "training_required": False,
        "adults_only": False,
        "people_served": (),
        "signup_deadline": None,
        "signups_closed_at": None,
        "key_date": None,
        "leader_name": None,
        "status": ActivityStatus.PUBLISHED,
        "cancel_reason": None,
        "confirmed_count": 0,
        "offered_count": 0,
        "waitlist_count": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Activity(**values)


async def queue_broadcasts(db: Database, telegram_ids: Iterable[int], subject: str) -> None:
    """One broadcast row due at ``NOW`` per recipient (subjects ``subject:0``, ``subject:1`` …,
    payload ``{"n": index}``), stored in one transaction."""
    notifications = [
        Notification(
            kind=NotificationKind.BROADCAST,
            telegram_id=telegram_id,
            subject=f"{subject}:{n}",
            payload={"n": n},
            due_at=NOW,
        )
        for n, telegram_id in enumerate(telegram_ids)
    ]
    async with db.transaction() as tx:
        await OutboxRepository.enqueue_many(tx, notifications, NOW)
