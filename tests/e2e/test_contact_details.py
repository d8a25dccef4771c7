"""Contact details as promised (issue #15 item 6), for every role.

The consent text says: "Only the organizers of activities you sign up for can see your contact
details." So the organizers of the activity's organization see full phone numbers on the roster
and in its exports; an administrator of the federation who is not a member sees them masked and
reveals one only by typing a reason, which is recorded and which the volunteer reads in their
data export; an organizer of another organization and a volunteer see no roster at all.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
from collections.abc import Callable

import handlers.registration
from bot.localapi import LocalBotApi, VirtualUser
from handlers.manage_buttons import ExportKind, RosterExport, RosterShown
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess
from tests.e2e.test_manage import download, organizer_of, press_unshown, volunteer
from tests.factories import add_activity, add_organization

MakeUser = Callable[..., VirtualUser]


def test_the_consent_text_makes_the_promise() -> None:
    """What the tests below check is what the consent text says (handlers.registration)."""
    source = inspect.getsource(handlers.registration)
    assert "Only the organizers of activities you sign up for can see your contact details." in (
        re.sub(r'"\s+"', "", source)
    )


async def open_roster(user: VirtualUser, activity_id: int) -> str:
    await user.send("/start")
    menu = await user.next_reply()
    await user.press_data(menu.message_id, RosterShown(activity_id, 0).pack())
    return (await user.wait_for_text("Roster:")).plain_text or ""


async def export_csv(api: LocalBotApi, user: VirtualUser, activity_id: int) -> list[list[str]]:
    await user.send("/start")
    menu = await user.next_reply()
    await user.press_data(menu.message_id, RosterExport(activity_id, ExportKind.CSV).pack())
    sent = await user.wait_for_text("Roster of")
    data = await download(api, sent)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_phone_numbers_are_seen_as_the_consent_text_promises(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    other = await add_organization(bot.db, name="雨花区志愿者协会", now=bot.clock())
    event = await add_activity(bot.db, organization, title="Park cleanup", now=bot.clock())
    aid = event.activity_id
    organizer = make_user("Org")
    await organizer_of(bot, organizer, organization)
    stranger = make_user("Other")
    await organizer_of(bot, stranger, other)
    admin = make_user("Root", user_id=ADMIN_ID)
    person = make_user("Ann")
    profile = await volunteer(bot, person, "Zhang Ann")
    phone = profile.phone
    assert phone is not None
    national = phone.removeprefix("+86")
    masked = f"+86 {national[:3]} **** {national[-4:]}"
    await person.start(f"act_{aid}")
    await person.wait_for_text("Park cleanup")
    await person.press("✋ Sign up")
    await person.wait_for_text("You are")

    # The organizer of the activity's organization: the full number, on screen and in files.
    text = await open_roster(organizer, aid)
    assert national[-4:] in text and "****" not in text
    assert "Reveal" not in " ".join(organizer.last_bot_message().button_labels())  # type: ignore[union-attr]
    rows = await export_csv(api, organizer, aid)
    assert rows[1][1].replace(" ", "") == national

    # An administrator outside the organization: masked on screen and in files.
    text = await open_roster(admin, aid)
    assert masked in text and national not in text.replace(" ", "")
    assert "masked" in text
    rows = await export_csv(api, admin, aid)
    assert rows[1][1] == masked.removeprefix("+86 ")  # national, as full numbers are
    assert national not in "".join(rows[1]).replace(" ", "")

    # Revealing one number takes a reason, which is recorded.
    await open_roster(admin, aid)
    await admin.press("🔓 Reveal a phone number")
    await admin.wait_for_text("Type the roster line")
    await admin.send("1")
    await admin.wait_for_text("Please give a reason")
    await admin.send("7 the venue changed")
    await admin.wait_for_text("There is no line 7")
    await admin.send("1 the venue changed and they do not answer")
    shown = await admin.wait_for_text("Your reason is recorded")
    assert national[-4:] in (shown.plain_text or "") and "****" not in (shown.plain_text or "")

    # The volunteer reads it in their data export.
    exported = await VolunteersRepository(bot.db).export(person.id)
    reveals = exported["contact_reveals"]
    assert isinstance(reveals, list) and len(reveals) == 1
    assert reveals[0]["viewer_telegram_id"] == ADMIN_ID
    assert reveals[0]["reason"] == "the venue changed and they do not answer"
    assert reveals[0]["activity_title"] == "Park cleanup"

    # An organizer of another organization and a volunteer: no roster, no number.
    for outsider in (stranger, person):
        refusal = await press_unshown(outsider, RosterShown(aid, 0).pack())
        assert "not allowed" in refusal
        refusal = await press_unshown(outsider, RosterExport(aid, ExportKind.CSV).pack())
        assert "not allowed" in refusal
        assert all(
            national[-4:] not in (message.plain_text or "") for message in outsider.bot_messages()
        )
    # Nor can they reveal one.
    assert "not allowed" in await press_unshown(stranger, f"mg.reveal:{aid}")
