"""Registration paths shared by end-to-end tests (English screens)."""

from __future__ import annotations

from bot.localapi import StoredMessage, VirtualUser


async def answer_area_to_review(user: VirtualUser) -> StoredMessage:
    """From the area step to the review screen with the same typical answers: Furong
    District, no skills, Health, weekday evenings, no groups. Returns the review message."""
    await user.wait_for_text("where do you live")
    await user.press("Furong District")
    await user.wait_for_text("your skills")
    await user.press("Done ➡️")
    await user.wait_for_text("kinds of service")
    await user.press("Health")
    await user.wait_for_text("kinds of service")
    await user.press("Done ➡️")
    await user.wait_for_text("free to volunteer")
    await user.press("Weekday evenings")
    await user.wait_for_text("free to volunteer")
    await user.press("Done ➡️")
    await user.wait_for_text("groups")
    await user.press("Done ➡️")
    return await user.wait_for_text("Please check your answers")


async def answer_consent_to_area(user: VirtualUser, name: str, birth_date: str) -> None:
    """From the consent screen to the area step: accept, a name, the own contact, Female,
    a typed birth date."""
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    await user.wait_for_text("your real name")
    await user.send(name)
    await user.wait_for_text("your phone number")
    await user.tap_reply_button("📱 Share my phone number")
    await user.wait_for_text("your gender")
    await user.press("Female")
    await user.wait_for_text("date of birth")
    await user.send(birth_date)
