"""Help and command menus per role (issue #13 item 15): volunteers, organizers and
administrators each see what they can use, whatever command they happened to send first, and
the menu follows a change of role."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.activities import MemberRole
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.models import BotInfo
from storage.organizations import OrganizationsRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually
from tests.factories import add_organization, add_user

MakeUser = Callable[..., VirtualUser]


def chat_menu(api: LocalBotApi, bot_info: BotInfo, user: VirtualUser) -> list[str]:
    commands = api.commands(bot_info.token, {"type": "chat", "chat_id": user.id}) or []
    return [str(command["command"]) for command in commands]


async def test_menus_and_help_fit_the_role_and_follow_its_change(
    bot: BotProcess, api: LocalBotApi, bot_info: BotInfo, make_user: MakeUser
) -> None:
    volunteer = make_user("Vol")
    await volunteer.send("/help")
    help_text = await volunteer.wait_for_text("What I can do")
    assert "/new" not in (help_text.plain_text or "")
    assert chat_menu(api, bot_info, volunteer) == []  # the default (volunteer) menu applies

    admin = make_user("Root", user_id=ADMIN_ID)
    await admin.send("/my")  # not /start or /admin: the menu must not depend on that
    await admin.next_reply()
    menu = await eventually(
        lambda: _async(chat_menu(api, bot_info, admin)), lambda found: "admin" in found
    )
    assert {"new", "broadcast"} <= set(menu)
    await admin.send("/help")
    assert "/broadcast" in ((await admin.wait_for_text("What I can do")).plain_text or "")

    # The volunteer's organization is approved: their next command brings the organizer menu.
    await add_user(bot.db, volunteer.id, first_name="Vol")
    organization = await add_organization(bot.db, now=bot.clock())
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, volunteer.id, MemberRole.MANAGER, bot.clock()
    )
    await volunteer.send("/help")
    help_text = await volunteer.wait_for_text("For organizers")
    assert "/new" in (help_text.plain_text or "")
    menu = await eventually(
        lambda: _async(chat_menu(api, bot_info, volunteer)), lambda found: "new" in found
    )
    assert "admin" not in menu


async def test_volunteers_see_recognition_and_dispatchers_their_queue(
    bot: BotProcess, api: LocalBotApi, bot_info: BotInfo, make_user: MakeUser
) -> None:
    # Every volunteer's default menu names the recognition commands.
    default = await eventually(
        lambda: _async(
            [str(c["command"]) for c in api.commands(bot_info.token, {"type": "default"}) or []]
        ),
        lambda found: bool(found),
    )
    assert {"stars", "points", "rewards", "honours"} <= set(default)
    assert "dispatch" not in default

    # Appointed as a dispatcher (not an administrator): /dispatch comes into their menu at
    # once, and goes when they are removed.
    candidate = make_user("Xiao Li", language_code="en")
    await candidate.send("/start")
    await candidate.next_reply()
    admin = make_user("Root", language_code="en", user_id=ADMIN_ID)
    await admin.send("/dispatchers")
    home = await admin.wait_for_text("Dispatchers by area")
    await admin.press("Furong District (0)", message=home)
    await admin.wait_for_text("Nobody yet")
    await admin.press("➕ Appoint a dispatcher")
    await admin.wait_for_text("user id")
    await admin.send(str(candidate.id))
    await admin.wait_for_text("is now a dispatcher")
    menu = await eventually(
        lambda: _async(chat_menu(api, bot_info, candidate)), lambda found: "dispatch" in found
    )
    assert "admin" not in menu and "new" not in menu
    area = await admin.wait_for_text("Dispatchers of")
    await admin.press(next(b for b in area.button_labels() if "Xiao Li" in b), message=area)
    await eventually(
        lambda: _async(chat_menu(api, bot_info, candidate)),
        lambda found: bool(found) and "dispatch" not in found,
    )


async def _async(value: list[str]) -> list[str]:
    return value
