"""bot.services.menus: which command menu fits a person, checked by the middleware on every
command without loading organization or activity models."""

from __future__ import annotations

import subprocess
import sys

from bot.domain.activities import MemberRole, OrganizationStatus
from bot.domain.users import MenuRole, Role
from bot.services.menus import MenuRoleService
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.factories import NOW, add_organization, add_user

ADMIN = 900_001


async def test_the_menu_fits_what_the_person_may_do(db: Database) -> None:
    users = UsersRepository(db)
    menus = MenuRoleService(users, {ADMIN})
    organizations = OrganizationsRepository(db)
    volunteer, organizer, pending, appointed = [await add_user(db) for _ in range(4)]
    await add_user(db, ADMIN)
    approved = await add_organization(db, name="芙蓉区青年志愿者协会")
    waiting = await add_organization(db, name="岳麓区助老服务社", status=OrganizationStatus.PENDING)
    await organizations.add_member(approved.organization_id, organizer, MemberRole.ORGANIZER, NOW)
    await organizations.add_member(waiting.organization_id, pending, MemberRole.MANAGER, NOW)
    await users.set_role(appointed, Role.ADMIN)

    assert await menus.role_of(volunteer) is MenuRole.VOLUNTEER
    assert await menus.role_of(organizer) is MenuRole.ORGANIZER
    # An organization still waiting for approval gives no organizer's menu yet.
    assert await menus.role_of(pending) is MenuRole.VOLUNTEER
    assert await menus.role_of(appointed) is MenuRole.ADMIN
    assert await menus.role_of(ADMIN) is MenuRole.ADMIN
    # An ADMIN_IDS administrator is one whatever their stored role, row or not.
    assert await menus.role_of(ADMIN, await users.get(ADMIN)) is MenuRole.ADMIN
    assert await MenuRoleService(users, {ADMIN + 1}).role_of(ADMIN + 1) is MenuRole.ADMIN


async def test_a_change_is_reported_until_the_new_menu_is_published(db: Database) -> None:
    users = UsersRepository(db)
    menus = MenuRoleService(users, frozenset())
    person = await add_user(db)
    user = await users.get(person)
    assert user is not None
    assert await menus.change(user) is None  # a volunteer sees the default menu already
    organization = await add_organization(db)
    await OrganizationsRepository(db).add_member(
        organization.organization_id, person, MemberRole.MANAGER, NOW
    )
    user = await users.get(person)
    assert user is not None
    assert await menus.change(user) is MenuRole.ORGANIZER
    await menus.published(person, MenuRole.ORGANIZER)
    user = await users.get(person)
    assert user is not None and user.menu_role is MenuRole.ORGANIZER
    assert await menus.change(user) is None


def test_the_service_loads_no_organization_or_activity_model() -> None:
    """What makes the first command after a start cheaper (issue #14)."""
    check = (
        "import sys, bot.services.menus; "
        "print(sorted(m for m in ('bot.domain.activities', 'storage.organizations', "
        "'bot.services.staff') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
