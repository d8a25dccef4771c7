"""The administrator panel: suspending, appointing administrators, editing the lists, and
forged ``adm:`` presses from volunteers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.domain.activities import MemberRole, OrganizationStatus
from bot.domain.users import Role
from bot.domain.volunteers import CatalogKind
from bot.localapi import VirtualUser
from handlers.admin import AdmAppoint, AdmApprove, AdmItemActive, AdmRemoveAdmin, AdmSuspend
from handlers.organize import OrgMembers
from storage.catalog import CatalogRepository
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess
from tests.factories import add_organization

MakeUser = Callable[..., VirtualUser]


async def started(make_user: MakeUser, name: str, **kwargs: object) -> VirtualUser:
    user = make_user(name, **kwargs)
    await user.start()
    await user.wait_for_text("Welcome")
    return user


async def test_suspend_takes_organizer_rights_away_and_reinstate_returns_them(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    member = await started(make_user, "Zhou")
    organization = await add_organization(bot.db, name="Kaifu Team", now=bot.clock())
    repo = OrganizationsRepository(bot.db)
    await repo.add_member(organization.organization_id, member.id, MemberRole.MANAGER, bot.clock())
    await member.send("/organize")
    await member.wait_for_text("You are a manager")

    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("🏢 Organizations")
    await admin.wait_for_text("Organizations (1)")
    await admin.press("Kaifu Team · ✅ approved")
    await admin.wait_for_text("Contact person")
    await admin.press("⛔ Suspend")
    await admin.wait_for_text("Type the reason")
    await admin.send("Complaints about fake activities")
    await admin.wait_for_text("Kaifu Team is suspended")
    stored = await repo.get(organization.organization_id)
    assert stored is not None and stored.status is OrganizationStatus.SUSPENDED
    # The member is told at once, with the reason (through the outbox).
    notice = await member.wait_for_text("Complaints about fake activities")
    assert "suspended" in (notice.text or "")

    # The member's old home buttons are refused now.
    home = await member.send("/organize")
    await member.wait_for_text("is suspended")
    await member.press_data(home.message_id, OrgMembers(organization.organization_id).pack())
    reply = await member.callback_answer()
    assert "not active" in (reply.text or "")

    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("🏢 Organizations")
    await admin.wait_for_text("Organizations (1)")
    await admin.press("Kaifu Team · ⛔ suspended")
    await admin.wait_for_text("Complaints about fake activities")
    await admin.press("♻️ Reinstate")
    await admin.wait_for_text("active again")
    await member.wait_for_text("Kaifu Team is active again")
    await member.send("/organize")
    await member.wait_for_text("You are a manager")


async def test_appoint_and_remove_an_administrator(bot: BotProcess, make_user: MakeUser) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    helper = make_user("Sun")
    helper.info = dataclasses.replace(helper.info, username="sun_helper")
    await helper.start()
    await helper.wait_for_text("Welcome")

    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("👮 Administrators")
    await admin.wait_for_text("Administrators")
    await admin.press("➕ Appoint an administrator")
    await admin.wait_for_text("user id")
    await admin.send("@nobody_here")
    await admin.wait_for_text("has used this bot")
    await admin.send("@Sun_Helper")
    await admin.wait_for_text("is now an administrator")
    user = await UsersRepository(bot.db).get(helper.id)
    assert user is not None and user.role is Role.ADMIN

    # The new administrator opens the panel; they cannot remove the configured one.
    await helper.send("/admin")
    panel = await helper.wait_for_text("Administrator panel")
    await helper.press_data(panel.message_id, AdmRemoveAdmin(ADMIN_ID).pack())
    reply = await helper.callback_answer()
    assert "cannot be removed" in (reply.text or "")

    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("👮 Administrators")
    await admin.wait_for_text("Administrators")
    await admin.press("➖ Remove Sun")
    await admin.wait_for_text("no longer an administrator")
    user = await UsersRepository(bot.db).get(helper.id)
    assert user is not None and user.role is Role.VOLUNTEER
    await helper.send("/admin")
    await helper.wait_for_text("only for administrators")


async def test_edit_a_reference_list(bot: BotProcess, make_user: MakeUser) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("📚 Areas, skills and categories")
    await admin.wait_for_text("Which list")
    await admin.press("Skills")
    await admin.wait_for_text("tap an entry")
    await admin.press("➕ Add an entry")
    await admin.wait_for_text("New entry for Skills")
    await admin.send("Bad Code! | 急救 | First aid")
    await admin.wait_for_text("The code must be")
    await admin.send("drone | 无人机 | Drone piloting")
    await admin.wait_for_text("Added: 无人机 / Drone piloting")
    catalog = CatalogRepository(bot.db)
    item = await catalog.skill("drone")
    assert item is not None and item.is_active

    await admin.press("⬅️ Back")
    await admin.wait_for_text("tap an entry")
    await admin.press("Drone piloting")
    await admin.wait_for_text("Code: drone")
    await admin.press("✏️ Rename")
    await admin.wait_for_text("New names for")
    await admin.send("无人机操作 | Drone operation")
    await admin.wait_for_text("Renamed")
    await admin.press("⬅️ Back")
    await admin.wait_for_text("Code: drone")
    await admin.press("⛔ Deactivate")
    await admin.wait_for_text("deactivated, hidden from users")
    item = await catalog.skill("drone")
    assert item is not None and not item.is_active and item.name_en == "Drone operation"
    assert "drone" not in {skill.code for skill in await catalog.skills()}


async def test_a_volunteer_forging_admin_presses_changes_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(
        bot.db, name="Pending Team", status=OrganizationStatus.PENDING, now=bot.clock()
    )
    volunteer = await started(make_user, "Mallory")
    await volunteer.send("/admin")
    menu = await volunteer.wait_for_text("only for administrators")
    oid = organization.organization_id
    presses = (
        AdmApprove(oid),
        AdmSuspend(oid),
        AdmAppoint(),
        AdmItemActive(CatalogKind.SKILL, "first_aid", False),
    )
    for data in (press.pack() for press in presses):
        await volunteer.press_data(menu.message_id, data)
        reply = await volunteer.callback_answer()
        assert "not allowed" in (reply.text or ""), data
    stored = await OrganizationsRepository(bot.db).get(oid)
    assert stored is not None and stored.status is OrganizationStatus.PENDING
    user = await UsersRepository(bot.db).get(volunteer.id)
    assert user is not None and user.role is Role.VOLUNTEER
