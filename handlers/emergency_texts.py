"""Texts shared by the emergency screens: refusals, labels, and the drill or emergency banner
that heads every message of a mobilization (a drill must never read like the real thing)."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.emergency import (
    SKILL_LABELS,
    EmergencyRefusal,
    Mobilization,
)
from bot.i18n import N_, Translator
from handlers.refusals import RefusalTexts
from handlers.render import html
from handlers.staff import STAFF_REFUSALS

EMERGENCY_REFUSALS: dict[StrEnum, str] = {
    EmergencyRefusal.NOT_VOLUNTEER: N_(
        "The on-call pool is for registered volunteers. Send /register first."
    ),
    EmergencyRefusal.NOT_ALLOWED: N_("Sorry, you are not allowed to do that."),
    EmergencyRefusal.NO_ORGANIZATION: N_(
        "No organization of yours may mobilize yet. Administrators allow organizations to mobilize."
    ),
    EmergencyRefusal.NOT_FOUND: N_("This button is no longer valid."),
    EmergencyRefusal.CHANGED: N_(
        "The mobilization changed since this screen was shown. Here it is again; please check "
        "it and press again."
    ),
    EmergencyRefusal.INCOMPLETE: N_(
        "Please give the title, the rally point with its pin, and at least one person needed."
    ),
    EmergencyRefusal.STARTED: N_("This mobilization has already been started."),
    EmergencyRefusal.NOT_ALERTED: N_("This call-out was not sent to you."),
    EmergencyRefusal.STOOD_DOWN: N_("This mobilization has been stood down. Thank you."),
    EmergencyRefusal.TOO_MANY: N_("That is more people than one mobilization can call."),
}

TEXTS = RefusalTexts(STAFF_REFUSALS, EMERGENCY_REFUSALS)


def skill_label(t: Translator, code: str) -> str:
    return t.gettext(SKILL_LABELS[code])


def banner(t: Translator, mobilization: Mobilization) -> str:
    """The first line of every message of a mobilization: drill or real, and what."""
    title = html(mobilization.title)
    if mobilization.is_drill:
        return t.gettext("🧪 <b>DRILL — not a real emergency</b> · {title}").format(title=title)
    return t.gettext("🚨 <b>EMERGENCY</b> · {title}").format(title=title)


def activity_title(t: Translator, mobilization: Mobilization) -> str:
    """The title of the mobilization's activity (and so of the service records)."""
    if mobilization.is_drill:
        return t.gettext("Emergency drill: {title}").format(title=mobilization.title)
    return t.gettext("Emergency mobilization: {title}").format(title=mobilization.title)
