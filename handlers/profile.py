"""The volunteer's profile: see it, edit a field (through the registration steps), choose
notifications and quiet hours, pause and resume, export all data, delete the account.

```mermaid
flowchart LR
    card[Profile card] -->|prof.fields| fields[Choose a field]
    fields -->|prof.edit:FIELD| steps[Registration step] --> review[Review] --> card
    card -->|prof.notif| notif[Notifications and quiet hours]
    notif -->|prof.notify:KIND · prof.quiet:PRESET| notif
    card -->|prof.pause| pause[Pause for 1 week … 3 months] -->|prof.pausefor:DAYS| card
    card -->|prof.resume| card
    card -->|prof.export| file[JSON document]
    card -->|prof.delete| warn[What is erased and what stays]
    card -->|st.show · rw.mine · hn.home| rec[Star level · points and rewards · honours]
    warn -->|prof.deleteyes| gone[Deleted, told what remains]
```
Every screen here is one press away from the card and asks nothing typed, so the profile is no
flow of its own; editing a field goes through the ``registration`` flow.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import time
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.points import format_points
from bot.domain.volunteers import NotificationSettings, RegistrationStep, VolunteerProfile
from bot.i18n import N_, Translator
from bot.services.registration import (
    EDITABLE_STEPS,
    PAUSE_CHOICES_DAYS,
    WrongStep,
    draft_from_profile,
)
from handlers.callbacks import MenuItem, MenuOpen, Press
from handlers.emergency_buttons import PoolShow
from handlers.honours import HnHome
from handlers.press_table import PressHandler as TablePressHandler
from handlers.press_table import press_handlers
from handlers.record_buttons import MyHoursPage
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, show
from handlers.rewards import RwMine
from handlers.stars import StShow, standing_lines
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

PAUSE_LABELS: dict[int, str] = {
    7: N_("1 week"),
    14: N_("2 weeks"),
    30: N_("1 month"),
    90: N_("3 months"),
}


# ----------------------------------------------------------------------------- the buttons


class ProfShow(Press, prefix="prof.show"):
    """Back to the profile card."""


class ProfFields(Press, prefix="prof.fields"):
    """✏️ Edit: the list of fields."""


class ProfEdit(Press, prefix="prof.edit"):
    """✏️ one field: handled by the registration flow (:mod:`handlers.registration`)."""

    field: RegistrationStep


class ProfNotifications(Press, prefix="prof.notif"):
    pass


class ProfNotify(Press, prefix="prof.notify"):
    """Switch one kind of notification on or off."""

    kind: str


class ProfQuiet(Press, prefix="prof.quiet"):
    preset: str


class ProfPause(Press, prefix="prof.pause"):
    """⏸ Pause: how long?"""


class ProfPauseFor(Press, prefix="prof.pausefor"):
    days: int


class ProfResume(Press, prefix="prof.resume"):
    pass


class ProfExport(Press, prefix="prof.export"):
    pass


class ProfDelete(Press, prefix="prof.delete"):
    """🗑 Delete: what is erased and what stays."""


class ProfDeleteYes(Press, prefix="prof.deleteyes"):
    pass


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
    # Recognition (issue #17): the star level and hours to the next, derived on this read
    # from the current thresholds, and the points balance.
    services = context.services
    lines += ["", *standing_lines(t, await services.stars.standing_of(profile.volunteer_id))]
    balance = await services.points.balance_of(profile.volunteer_id)
    lines.append(t.gettext("💰 Points: {points}").format(points=format_points(balance)))
    return "\n".join(lines)


def profile_keyboard(
    t: Translator, profile: VolunteerProfile, paused: bool
) -> InlineKeyboardMarkup:
    pause = (
        ProfResume().button(t.gettext("▶️ Resume"))
        if paused
        else ProfPause().button(t.gettext("⏸ Pause"))
    )
    return InlineKeyboardMarkup(
        [
            [
                ProfFields().button(t.gettext("✏️ Edit")),
                ProfNotifications().button(t.gettext("🔔 Notifications")),
            ],
            [MyHoursPage(0).button(t.gettext("🕒 My volunteer hours"))],
            [
                StShow().button(t.gettext("⭐ Star level")),
                RwMine().button(t.gettext("💰 Points and rewards")),
                HnHome().button(t.gettext("🏅 Honours")),
            ],
            [PoolShow().button(t.gettext("🚨 Emergency on-call"))],
            [pause, ProfExport().button(t.gettext("📤 Export my data"))],
            [ProfDelete().button(t.gettext("🗑 Delete my account"))],
            [MenuOpen(MenuItem.HOME).button(t.gettext("🏠 Main menu"))],
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


# ------------------------------------------------------------------------------ the screens
# One function per family (the table PRESSES below); each gets the parsed press and the
# volunteer's profile (presses of someone with no profile are refused before).

PressHandler = Callable[[Update, ZyContext, Any, VolunteerProfile], Awaitable[None]]


async def _show(update: Update, context: ZyContext, press: ProfShow, _: VolunteerProfile) -> None:
    await answer(update)
    await show_profile(update, context)


async def _fields(
    update: Update, context: ZyContext, press: ProfFields, _: VolunteerProfile
) -> None:
    t = context.t
    svc = context.services.registration
    await answer(update)
    fields = [
        step
        for step in EDITABLE_STEPS
        if step is not RegistrationStep.ID_NUMBER or svc.require_id_number
    ]
    buttons = [ProfEdit(f).button("✏️ " + t.gettext(FIELD_LABELS[f])) for f in fields]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([ProfShow().button(t.gettext("⬅️ Back"))])
    await show(update, t.gettext("Which field do you want to change?"), InlineKeyboardMarkup(rows))


async def _notifications(
    update: Update, context: ZyContext, press: Press, profile: VolunteerProfile
) -> None:
    """The notification screen; a toggle or a quiet-hours preset first changes the setting."""
    t = context.t
    svc = context.services.registration
    settings = profile.notifications
    if isinstance(press, ProfNotify):
        if press.kind not in NOTIFICATION_KINDS:
            await answer(update, t.gettext(GENERIC))
            return
        settings = settings.model_copy(update={press.kind: not getattr(settings, press.kind)})
    elif isinstance(press, ProfQuiet):
        if press.preset not in QUIET_PRESETS:
            await answer(update, t.gettext(GENERIC))
            return
        start, end = QUIET_PRESETS[press.preset]
        settings = settings.model_copy(update={"quiet_start": start, "quiet_end": end})
    if settings != profile.notifications:
        profile = await svc.set_notifications(context.user.telegram_id, settings)
    await answer(update)
    await show(
        update,
        notifications_text(t, profile.notifications),
        notifications_keyboard(t, profile.notifications),
    )


async def _pause(update: Update, context: ZyContext, press: ProfPause, _: VolunteerProfile) -> None:
    t = context.t
    await answer(update)
    buttons = [
        ProfPauseFor(days).button(t.gettext(PAUSE_LABELS[days])) for days in PAUSE_CHOICES_DAYS
    ]
    await show(
        update,
        t.gettext(
            "Pause volunteering for a while? You will get no invitations or campaign news "
            "until then; your sign-ups stay as they are."
        ),
        InlineKeyboardMarkup([buttons[:2], buttons[2:], [ProfShow().button(t.gettext("⬅️ Back"))]]),
    )


async def _pause_for(
    update: Update, context: ZyContext, press: ProfPauseFor, _: VolunteerProfile
) -> None:
    t = context.t
    try:
        until = await context.services.registration.pause(context.user.telegram_id, press.days)
    except WrongStep:
        await answer(update, t.gettext(GENERIC))
        return
    await answer(update)
    await show_profile(
        update,
        context,
        notice=t.gettext("⏸ Paused until {date}.").format(date=t.format_day(until)),
    )


async def _resume(
    update: Update, context: ZyContext, press: ProfResume, _: VolunteerProfile
) -> None:
    await context.services.registration.resume(context.user.telegram_id)
    await answer(update)
    await show_profile(
        update, context, notice=context.t.gettext("▶️ Welcome back! You are active again.")
    )


async def _export(
    update: Update, context: ZyContext, press: ProfExport, _: VolunteerProfile
) -> None:
    user_id = context.user.telegram_id
    await answer(update)
    data = await context.services.registration.export(user_id)
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    if update.effective_chat is not None:
        await update.effective_chat.send_document(
            io.BytesIO(payload),
            filename=f"zhiyuan-my-data-{user_id}.json",
            caption=context.t.gettext("Everything Zhiyuan stores about you."),
        )


async def _delete(
    update: Update, context: ZyContext, press: ProfDelete, _: VolunteerProfile
) -> None:
    t = context.t
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
                [ProfDeleteYes().button(t.gettext("🗑 Yes, delete my account"))],
                [ProfShow().button(t.gettext("Keep my account"))],
            ]
        ),
    )


async def _delete_yes(
    update: Update, context: ZyContext, press: ProfDeleteYes, _: VolunteerProfile
) -> None:
    user_id = context.user.telegram_id
    report = await context.services.registration.delete_account(user_id)
    log.info("account deleted: user %s, anonymized record %s", user_id, report.volunteer_id)
    await answer(update)
    await show(
        update,
        context.t.gettext(
            "Your account is deleted. Your personal data is erased; an anonymous record "
            "remains for service statistics only. Thank you for volunteering!\n\n"
            "If you write to me again, I will treat you as a new visitor."
        ),
    )


#: What each profile press family does.
PRESSES: dict[type[Press], PressHandler] = {
    ProfShow: _show,
    ProfFields: _fields,
    ProfNotifications: _notifications,
    ProfNotify: _notifications,
    ProfQuiet: _notifications,
    ProfPause: _pause,
    ProfPauseFor: _pause_for,
    ProfResume: _resume,
    ProfExport: _export,
    ProfDelete: _delete,
    ProfDeleteYes: _delete_yes,
}


async def _profile_or_menu(update: Update, context: ZyContext) -> VolunteerProfile | None:
    """The presser's profile; ``None`` after answering a press of someone with none (deleted
    meanwhile, or forged): no longer valid, and the main menu."""
    profile = await context.services.registration.profile(context.user.telegram_id)
    if profile is None:
        await answer(update, context.t.gettext(GENERIC))
        from handlers.start import show_menu

        await show_menu(update, context)
    return profile


def _with_profile(handler: PressHandler) -> TablePressHandler:
    async def on_press(update: Update, context: ZyContext, press: Any) -> None:
        profile = await _profile_or_menu(update, context)
        if profile is not None:
            await handler(update, context, press, profile)

    on_press.__name__ = getattr(handler, "__name__", "on_press")
    return on_press


async def on_malformed(update: Update, context: ZyContext) -> None:
    """A ``prof.`` press no family reads (forged, or from an older version): no longer
    valid, and the profile as it is now."""
    if await _profile_or_menu(update, context) is not None:
        await answer(update, context.t.gettext(GENERIC))
        await show_profile(update, context)


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
        [ProfNotify(kind).button(("✅ " if getattr(settings, kind) else "🚫 ") + t.gettext(label))]
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
        ProfQuiet(key).button(
            ("✓ " if key == current else "")
            + (t.gettext("No quiet hours") if key == "off" else f"🌙 {s:%H:%M}–{e:%H:%M}")
        )
        for key, (s, e) in QUIET_PRESETS.items()
    ]
    rows += [presets[:2], presets[2:], [ProfShow().button(t.gettext("⬅️ Back"))]]
    return InlineKeyboardMarkup(rows)


def register(application: HandlerSink) -> None:
    # ✏️ a field (prof.edit) is the registration flow's entry (handlers.registration),
    # registered before this module, so the prefix's catch-all here does not take it.
    for handler, group in press_handlers(
        {family: _with_profile(handler) for family, handler in PRESSES.items()},
        texts=RefusalTexts(),
        invalid=on_malformed,
        prefix="prof",
    ):
        application.add_handler(handler, group)
