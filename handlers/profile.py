"""The volunteer's profile: see it, edit a field (through the registration steps), choose
notifications and quiet hours, pause and resume, export all data, delete the account.

```mermaid
flowchart LR
    card[Profile card] -->|prof:edit| fields[Choose a field]
    fields -->|prof:edit:FIELD| steps[Registration step] --> review[Review] --> card
    card -->|prof:notif| notif[Notification toggles and quiet hours] --> card
    card -->|prof:pause| pause[Pause for 1 week … 3 months] --> card
    card -->|prof:resume| card
    card -->|prof:export| file[JSON document]
    card -->|prof:del| warn[What is erased and what stays]
    warn -->|prof:del:yes| gone[Deleted, told what remains]
```
"""

from __future__ import annotations

import io
import json
import logging
from datetime import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import ZyContext
from bot.domain.volunteers import NotificationSettings, RegistrationStep, VolunteerProfile
from bot.i18n import N_, Translator
from bot.services.registration import (
    EDITABLE_STEPS,
    PAUSE_CHOICES_DAYS,
    WrongStep,
    draft_from_profile,
)
from handlers.callbacks import callback, parse_int, split
from handlers.render import answer, show
from handlers.volunteer_answers import FIELD_LABELS, describe_answers

log = logging.getLogger(__name__)

NOTIFICATION_KINDS: dict[str, str] = {
    "reminders": N_("Reminders before my activities"),
    "campaigns": N_("Campaigns around volunteer days"),
    "digest": N_("Weekly digest of new activities"),
    "invitations": N_("Invitations from organizers"),
}

# Quiet hours presets: (start, end); equal times mean "no quiet hours".
QUIET_PRESETS: dict[str, tuple[time, time]] = {
    "22-08": (time(22, 0), time(8, 0)),
    "21-07": (time(21, 0), time(7, 0)),
    "23-09": (time(23, 0), time(9, 0)),
    "off": (time(0, 0), time(0, 0)),
}


def _button(label: str, *parts: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callback(*parts))


async def profile_text(t: Translator, profile: VolunteerProfile, context: ZyContext) -> str:
    svc = context.services.registration
    answers = await describe_answers(
        t, draft_from_profile(profile), context, require_id_number=svc.require_id_number
    )
    lines = [t.gettext("<b>My volunteer profile</b>"), ""]
    lines += [t.labelled(FIELD_LABELS[field], value) for field, value in answers]
    if profile.paused_until is not None and profile.paused_until > svc.today():
        lines += [
            "",
            t.gettext("⏸ Paused until {date}: you get no invitations or campaign news.").format(
                date=t.format_day(profile.paused_until)
            ),
        ]
    return "\n".join(lines)


def profile_keyboard(
    t: Translator, profile: VolunteerProfile, paused: bool
) -> InlineKeyboardMarkup:
    pause = (
        _button(t.gettext("▶️ Resume"), "prof", "resume")
        if paused
        else _button(t.gettext("⏸ Pause"), "prof", "pause")
    )
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("✏️ Edit"), "prof", "edit"),
                _button(t.gettext("🔔 Notifications"), "prof", "notif"),
            ],
            [pause, _button(t.gettext("📤 Export my data"), "prof", "export")],
            [_button(t.gettext("🗑 Delete my account"), "prof", "del")],
            [_button(t.gettext("🏠 Main menu"), "menu", "home")],
        ]
    )


async def show_profile(update: Update, context: ZyContext, *, notice: str | None = None) -> None:
    svc = context.services.registration
    t = context.t
    profile = await svc.profile(context.user.telegram_id)
    if profile is None:
        from handlers.start import home_button

        await show(
            update,
            t.gettext("You are not registered yet. Send /register to start."),
            home_button(t),
        )
        return
    paused = profile.paused_until is not None and profile.paused_until > svc.today()
    text = await profile_text(t, profile, context)
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, profile_keyboard(t, profile, paused))


async def _require_profile(update: Update, context: ZyContext) -> VolunteerProfile | None:
    profile = await context.services.registration.profile(context.user.telegram_id)
    if profile is None:
        await answer(update, context.t.gettext("This button is no longer valid."))
        from handlers.start import show_menu

        await show_menu(update, context)
    return profile


async def on_profile_button(update: Update, context: ZyContext) -> object:
    parts = split(update.callback_query.data if update.callback_query else None)
    action = parts[1] if len(parts) > 1 else ""
    argument = parts[2] if len(parts) > 2 else ""
    t = context.t
    profile = await _require_profile(update, context)
    if profile is None:
        return None
    svc = context.services.registration
    user_id = context.user.telegram_id

    if action == "show":
        await answer(update)
        await show_profile(update, context)
    elif action == "edit" and not argument:
        await answer(update)
        fields = [
            step
            for step in EDITABLE_STEPS
            if step is not RegistrationStep.ID_NUMBER or svc.require_id_number
        ]
        buttons = [
            _button("✏️ " + t.gettext(FIELD_LABELS[f]), "prof", "edit", f.value) for f in fields
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([_button(t.gettext("⬅️ Back"), "prof", "show")])
        await show(
            update, t.gettext("Which field do you want to change?"), InlineKeyboardMarkup(rows)
        )
    elif action == "notif":
        settings = profile.notifications
        if argument in NOTIFICATION_KINDS:
            current = getattr(settings, argument)
            settings = settings.model_copy(update={argument: not current})
            profile = await svc.set_notifications(user_id, settings)
        elif argument in QUIET_PRESETS:
            start, end = QUIET_PRESETS[argument]
            settings = settings.model_copy(update={"quiet_start": start, "quiet_end": end})
            profile = await svc.set_notifications(user_id, settings)
        elif argument:
            await answer(update, t.gettext("This button is no longer valid."))
            return None
        await answer(update)
        await show(
            update,
            notifications_text(t, profile.notifications),
            notifications_keyboard(t, profile.notifications),
        )
    elif action == "pause" and not argument:
        await answer(update)
        labels = {7: N_("1 week"), 14: N_("2 weeks"), 30: N_("1 month"), 90: N_("3 months")}
        buttons = [
            _button(t.gettext(labels[days]), "prof", "pause", days) for days in PAUSE_CHOICES_DAYS
        ]
        await show(
            update,
            t.gettext(
                "Pause volunteering for a while? You will get no invitations or campaign news "
                "until then; your sign-ups stay as they are."
            ),
            InlineKeyboardMarkup(
                [buttons[:2], buttons[2:], [_button(t.gettext("⬅️ Back"), "prof", "show")]]
            ),
        )
    elif action == "pause":
        try:
            days = parse_int(argument, 4)
            until = await svc.pause(user_id, days if days is not None else -1)
        except WrongStep:
            await answer(update, t.gettext("This button is no longer valid."))
            return None
        await answer(update)
        await show_profile(
            update,
            context,
            notice=t.gettext("⏸ Paused until {date}.").format(date=t.format_day(until)),
        )
    elif action == "resume":
        await svc.resume(user_id)
        await answer(update)
        await show_profile(
            update, context, notice=t.gettext("▶️ Welcome back! You are active again.")
        )
    elif action == "export":
        await answer(update)
        data = await svc.export(user_id)
        payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
        if update.effective_chat is not None:
            await update.effective_chat.send_document(
                io.BytesIO(payload),
                filename=f"zhiyuan-my-data-{user_id}.json",
                caption=t.gettext("Everything Zhiyuan stores about you."),
            )
    elif action == "del" and not argument:
        await answer(update)
        await show(
            update,
            t.gettext(
                "<b>Delete your account?</b>\n\n"
                "This erases your name, phone number, ID number, date of birth, gender, groups, "
                "skills and settings, and Zhiyuan forgets your Telegram account.\n\n"
                "What stays: an anonymous record (area, service interests, age group) so "
                "that the federation's service statistics remain correct. It cannot be "
                "linked to you.\n\n"
                "This cannot be undone."
            ),
            InlineKeyboardMarkup(
                [
                    [_button(t.gettext("🗑 Yes, delete my account"), "prof", "del", "yes")],
                    [_button(t.gettext("Keep my account"), "prof", "show")],
                ]
            ),
        )
    elif action == "del" and argument == "yes":
        report = await svc.delete_account(user_id)
        log.info("account deleted: user %s, anonymized record %s", user_id, report.volunteer_id)
        await answer(update)
        await show(
            update,
            t.gettext(
                "Your account is deleted. Your personal data is erased; an anonymous record "
                "remains for service statistics only. Thank you for volunteering!\n\n"
                "If you write to me again, I will treat you as a new visitor."
            ),
        )
    else:
        await answer(update, t.gettext("This button is no longer valid."))
        await show_profile(update, context)
    return None


def notifications_text(t: Translator, settings: NotificationSettings) -> str:
    if settings.quiet_start == settings.quiet_end:
        quiet = t.gettext("Quiet hours: off.")
    else:
        quiet = t.gettext(
            "Quiet hours: {start}–{end}. Only reminders and urgent changes to your sign-ups "
            "are sent then; invitations, campaigns, digests and announcements wait until the "
            "end."
        ).format(
            start=settings.quiet_start.strftime("%H:%M"), end=settings.quiet_end.strftime("%H:%M")
        )
    return t.gettext("<b>Notifications</b>\nTap to switch each kind on or off.") + "\n" + quiet


def notifications_keyboard(t: Translator, settings: NotificationSettings) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                ("✅ " if getattr(settings, kind) else "🚫 ") + t.gettext(label),
                "prof",
                "notif",
                kind,
            )
        ]
        for kind, label in NOTIFICATION_KINDS.items()
    ]
    current = next(
        (
            key
            for key, (s, e) in QUIET_PRESETS.items()
            if (s, e) == (settings.quiet_start, settings.quiet_end)
        ),
        None,
    )
    presets = [
        _button(
            ("✓ " if key == current else "")
            + (t.gettext("No quiet hours") if key == "off" else f"🌙 {s:%H:%M}–{e:%H:%M}"),
            "prof",
            "notif",
            key,
        )
        for key, (s, e) in QUIET_PRESETS.items()
    ]
    rows += [presets[:2], presets[2:], [_button(t.gettext("⬅️ Back"), "prof", "show")]]
    return InlineKeyboardMarkup(rows)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_profile_button, pattern=r"^prof:"))
