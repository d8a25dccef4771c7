"""Domain rules of organizations: decisions, invitations, members, administrators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.activities import MemberRole, OrganizationStatus
from bot.domain.users import TelegramIdentity
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import CatalogKind
from bot.services.organizations import (
    AlreadyDecided,
    OrganizationAdminService,
    OrgRefusal,
    OrgRefused,
    hash_code,
)
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.factories import add_organization

ADMIN = 1
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def svc(db: Database) -> OrganizationAdminService:
    users = UsersRepository(db)
    for uid in (ADMIN, 2, 3, 4):
        await users.touch(TelegramIdentity(telegram_id=uid, first_name=f"U{uid}"), START)
    organizations = OrganizationsRepository(db)
    staff = StaffService(users, organizations, ActivitiesRepository(db), {ADMIN})
    return OrganizationAdminService(
        db,
        organizations,
        users,
        CatalogRepository(db),
        staff,
        ManualClock(START),
        {ADMIN},
        timedelta(hours=72),
    )


async def _apply(svc: OrganizationAdminService, uid: int) -> int:
    await svc.begin(uid)
    await svc.set_name(uid, "Test Team")
    await svc.set_type(uid, "school")
    await svc.set_area(uid, "furong")
    await svc.set_contact(uid, "王芳")
    await svc.set_phone(uid, "13812345678")
    draft = await svc.set_description(uid, "Tutoring children after school.")
    assert draft.step.value == "review"
    return (await svc.submit(uid)).organization_id


async def test_application_is_pending_and_decided_once(
    svc: OrganizationAdminService, db: Database
) -> None:
    oid = await _apply(svc, 2)
    assert (await svc.pending_application(2)) is not None
    with pytest.raises(OrgRefused):  # a draft is gone after submitting
        await svc.current(2)
    rows = await db.fetch_all("SELECT telegram_id FROM outbox WHERE kind = 'org_application'")
    assert [row["telegram_id"] for row in rows] == [ADMIN]
    await svc.approve(ADMIN, oid)
    with pytest.raises(AlreadyDecided) as caught:
        await svc.reject(ADMIN, oid, "too late")
    assert caught.value.decided_by is not None and caught.value.decided_by.telegram_id == ADMIN
    assert await OrganizationsRepository(db).membership(oid, 2) is MemberRole.MANAGER


async def test_only_admins_decide(svc: OrganizationAdminService) -> None:
    oid = await _apply(svc, 2)
    with pytest.raises(StaffRefused):
        await svc.approve(3, oid)
    with pytest.raises(InvalidInput):
        await svc.reject(ADMIN, oid, " ")


async def test_invite_is_single_use_and_expires(
    svc: OrganizationAdminService, db: Database
) -> None:
    organization = await add_organization(db, now=START)
    oid = organization.organization_id
    await OrganizationsRepository(db).add_member(oid, 2, MemberRole.MANAGER, START)
    with pytest.raises(StaffRefused):  # not a manager
        await svc.create_invite(3, oid)
    code, _ = await svc.create_invite(2, oid)
    stored = await db.fetch_one("SELECT code_hash FROM organization_invites")
    assert stored is not None and stored["code_hash"] == hash_code(code) != code
    await svc.accept_invite(3, code)
    with pytest.raises(OrgRefused) as used:
        await svc.accept_invite(4, code)
    assert used.value.reason is OrgRefusal.INVITE_USED

    second, _ = await svc.create_invite(2, oid)
    clock = svc._clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=73))
    with pytest.raises(OrgRefused) as expired:
        await svc.accept_invite(4, second)
    assert expired.value.reason is OrgRefusal.INVITE_EXPIRED
    with pytest.raises(OrgRefused) as unknown:
        await svc.accept_invite(4, "nonexistent-code-123")
    assert unknown.value.reason is OrgRefusal.INVITE_UNKNOWN


async def test_last_manager_cannot_be_removed(svc: OrganizationAdminService, db: Database) -> None:
    organization = await add_organization(db, now=START)
    oid = organization.organization_id
    repo = OrganizationsRepository(db)
    await repo.add_member(oid, 2, MemberRole.MANAGER, START)
    await repo.add_member(oid, 3, MemberRole.ORGANIZER, START)
    with pytest.raises(OrgRefused) as last:
        await svc.remove_member(2, oid, 2)
    assert last.value.reason is OrgRefusal.LAST_MANAGER
    await svc.remove_member(2, oid, 3)
    assert await repo.membership(oid, 3) is None


async def test_suspended_organization_refuses_its_members(
    svc: OrganizationAdminService, db: Database
) -> None:
    organization = await add_organization(db, now=START)
    oid = organization.organization_id
    await OrganizationsRepository(db).add_member(oid, 2, MemberRole.MANAGER, START)
    await svc.suspend(ADMIN, oid, "Complaints")
    with pytest.raises(StaffRefused):
        await svc.create_invite(2, oid)
    assert (await svc.suspended_memberships(2))[0].status_reason == "Complaints"
    restored = await svc.reinstate(ADMIN, oid)
    assert restored.status is OrganizationStatus.APPROVED


async def test_admins_and_catalog(svc: OrganizationAdminService) -> None:
    with pytest.raises(InvalidInput):
        await svc.appoint_admin(ADMIN, "not a user!")
    user = await svc.appoint_admin(ADMIN, "2")
    assert user.role.value == "admin"
    with pytest.raises(OrgRefused) as fixed:
        await svc.remove_admin(2, ADMIN)
    assert fixed.value.reason is OrgRefusal.FIXED_ADMIN
    with pytest.raises(OrgRefused) as itself:
        await svc.remove_admin(2, 2)
    assert itself.value.reason is OrgRefusal.SELF
    item = await svc.add_catalog_item(ADMIN, CatalogKind.AREA, "xiangjiang | 湘江新区 | Xiangjiang")
    assert item.code == "xiangjiang"
    with pytest.raises(OrgRefused):
        await svc.add_catalog_item(ADMIN, CatalogKind.AREA, "xiangjiang | 重复 | Again")
    with pytest.raises(InvalidInput):
        await svc.add_catalog_item(ADMIN, CatalogKind.AREA, "9bad | 坏 | Bad")
    with pytest.raises(StaffRefused):
        await svc.add_catalog_item(3, CatalogKind.SKILL, "x | 一 | One")
