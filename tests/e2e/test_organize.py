"""Organization application → administrator decision → organization home → co-organizers."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.domain.activities import MemberRole, OrganizationStatus
from bot.localapi import VirtualUser
from handlers.admin import AdmApprove
from handlers.organize import OrgInvite, OrgMembers, OrgOpen, OrgRemoveYes
from storage.organizations import OrganizationsRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually

MakeUser = Callable[..., VirtualUser]


async def apply(user: VirtualUser, name: str) -> None:
    """Fill in and submit the application form (English screens)."""
    await user.send("/organize")
    await user.wait_for_text("full name")
    await user.send(name)
    await user.wait_for_text("what type")
    await user.press("Volunteer service team")
    await user.wait_for_text("which area")
    await user.press("Furong District")
    await user.wait_for_text("contact person")
    await user.send("张伟")
    await user.wait_for_text("phone number")
    await user.send("12345")
    await user.wait_for_text("That number is not valid")
    await user.send("138 1234 5678")
    await user.wait_for_text("description")
    await user.send("short")
    await user.wait_for_text("at least 10 characters")
    await user.send("We visit elderly people living alone in Furong.")
    review = await user.wait_for_text("Please check your application")
    assert name in (review.plain_text or "")
    assert "+86 138 1234 5678" in (review.plain_text or "")
    await user.press("📨 Submit the application")
    await user.wait_for_text("sent to the administrators")


async def test_apply_approve_invite_a_co_organizer(bot: BotProcess, make_user: MakeUser) -> None:
    admin = make_user("Boss", user_id=ADMIN_ID)
    await admin.start()
    await admin.wait_for_text("Welcome")
    applicant = make_user("Zhang")
    await apply(applicant, "Furong Elder Care Team")
    repo = OrganizationsRepository(bot.db)
    [organization] = await repo.applications_of(applicant.id, [OrganizationStatus.PENDING])

    # A pending application shows its status instead of a new form.
    await applicant.send("/organize")
    await applicant.wait_for_text("waiting for an administrator's review")

    card = await admin.wait_for_text("New organization application")
    assert "Furong Elder Care Team" in (card.plain_text or "")
    await admin.press("✅ Approve", message=card)
    await admin.wait_for_text("is approved")
    assert await repo.membership(organization.organization_id, applicant.id) is MemberRole.MANAGER

    await applicant.wait_for_text("is approved!")
    await applicant.press("🏢 Organization home")
    home = await applicant.wait_for_text("You are a manager")
    assert {"📋 Activities", "➕ New activity", "👥 Co-organizers"} <= set(home.button_labels())

    await applicant.press("👥 Co-organizers")
    await applicant.wait_for_text("Members of")
    await applicant.press("🔗 Create an invitation link")
    invitation = await applicant.wait_for_text("Send this link")
    match = re.search(r"start=inv_([A-Za-z0-9_-]+)", invitation.plain_text or "")
    assert match is not None
    code = match.group(1)

    helper = make_user("Li")
    await helper.start(f"inv_{code}")
    await helper.wait_for_text("invited to join")
    await helper.press("✅ Join")
    joined = await helper.wait_for_text("co-organizer of Furong Elder Care Team")
    assert "👥 Co-organizers" not in joined.button_labels()  # organizers are not managers
    assert await repo.membership(organization.organization_id, helper.id) is MemberRole.ORGANIZER

    # The code worked once.
    late = make_user("Wu")
    await late.start(f"inv_{code}")
    await late.wait_for_text("already used")
    assert await repo.membership(organization.organization_id, late.id) is None
    await late.start("inv_" + "x" * 24)
    await late.wait_for_text("not valid")

    # The manager removes the co-organizer, but cannot remove the last manager (themselves).
    await applicant.send("/organize")
    await applicant.wait_for_text("You are a manager")
    await applicant.press("👥 Co-organizers")
    members = await applicant.wait_for_text("Members of")
    assert "➖ Remove Zhang" not in members.button_labels()
    await applicant.press("➖ Remove Li")
    await applicant.wait_for_text("Remove Li from the organization?")
    await applicant.press("✅ Yes, remove")
    await applicant.wait_for_text("Li is no longer a member")
    assert await repo.membership(organization.organization_id, helper.id) is None


async def test_reject_with_a_reason_and_a_second_admin_is_told(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = make_user("Boss", user_id=ADMIN_ID)
    await admin.start()
    await admin.wait_for_text("Welcome")
    applicant = make_user("Chen")
    await apply(applicant, "Duplicate Team")
    card = await admin.wait_for_text("New organization application")
    await admin.press("❌ Reject", message=card)
    await admin.wait_for_text("Type the reason")
    await admin.send("x")
    await admin.wait_for_text("at least 2 characters")
    await admin.send("Already registered as 芙蓉区青年志愿者协会")
    await admin.wait_for_text("is rejected")
    told = await applicant.wait_for_text("was not approved")
    assert "Already registered as 芙蓉区青年志愿者协会" in (told.plain_text or "")

    # The notification's Approve pressed again (a second admin, a replay) is refused.
    repo = OrganizationsRepository(bot.db)
    [organization] = await repo.applications_of(applicant.id, [OrganizationStatus.REJECTED])
    await admin.press_data(card.message_id, AdmApprove(organization.organization_id).pack())
    reply = await admin.callback_answer()
    assert "already decided by Boss" in (reply.text or "")
    assert await repo.membership(organization.organization_id, applicant.id) is None

    # After a rejection the applicant may apply again.
    await applicant.send("/organize")
    await applicant.wait_for_text("full name")


async def test_forged_org_presses_change_nothing(bot: BotProcess, make_user: MakeUser) -> None:
    from tests.factories import add_organization

    organization = await add_organization(bot.db, now=bot.clock())
    stranger = make_user("Eve")
    await stranger.start()
    menu = await stranger.wait_for_text("Welcome")
    oid = organization.organization_id
    presses = (OrgMembers(oid), OrgInvite(oid), OrgOpen(oid), OrgRemoveYes(oid, 1))
    for data in (press.pack() for press in presses):
        await stranger.press_data(menu.message_id, data)
        reply = await stranger.callback_answer()
        assert "not allowed" in (reply.text or ""), data
    count = await bot.db.fetch_one("SELECT COUNT(*) AS n FROM organization_invites")
    assert count is not None and count["n"] == 0
    _ = eventually
