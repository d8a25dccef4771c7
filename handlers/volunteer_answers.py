"""A volunteer's registration answers as people read them: the labels of each field and value.

Shared by the registration review (:mod:`handlers.registration`) and the profile card
(:mod:`handlers.profile`), which is why it is neither of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.context import ZyContext
from bot.domain import validation
from bot.domain.volunteers import (
    CatalogItem,
    DraftData,
    Gender,
    RegistrationStep,
    Slot,
    VolunteerGroup,
)
from bot.i18n import N_, Translator
from handlers.render import html

Step = RegistrationStep

GENDER_LABELS: dict[Gender, str] = {
    Gender.FEMALE: N_("Female"),
    Gender.MALE: N_("Male"),
    Gender.UNDISCLOSED: N_("Prefer not to say"),
}

SLOT_LABELS: dict[Slot, str] = {
    Slot.WEEKDAY_MORNING: N_("Weekday mornings"),
    Slot.WEEKDAY_AFTERNOON: N_("Weekday afternoons"),
    Slot.WEEKDAY_EVENING: N_("Weekday evenings"),
    Slot.WEEKEND_MORNING: N_("Weekend mornings"),
    Slot.WEEKEND_AFTERNOON: N_("Weekend afternoons"),
    Slot.WEEKEND_EVENING: N_("Weekend evenings"),
}

GROUP_LABELS: dict[VolunteerGroup, str] = {
    VolunteerGroup.PARTY_MEMBER: N_("CPC member"),
    VolunteerGroup.YOUTH: N_("Youth"),
    VolunteerGroup.WOMEN: N_("Women"),
    VolunteerGroup.COMMUNITY: N_("Community"),
    VolunteerGroup.WORKER: N_("Workers"),
    VolunteerGroup.VETERAN: N_("Veteran"),
    VolunteerGroup.STUDENT: N_("Student"),
    VolunteerGroup.SENIOR: N_("Senior"),
}

FIELD_LABELS: dict[Step, str] = {
    Step.NAME: N_("Name"),
    Step.PHONE: N_("Phone"),
    Step.ID_NUMBER: N_("ID card number"),
    Step.GENDER: N_("Gender"),
    Step.BIRTH_DATE: N_("Date of birth"),
    Step.AREA: N_("Area"),
    Step.SKILLS: N_("Skills"),
    Step.CATEGORIES: N_("Services"),
    Step.AVAILABILITY: N_("Availability"),
    Step.GROUPS: N_("Groups"),
}


async def describe_answers(
    t: Translator, data: DraftData, context: ZyContext, *, require_id_number: bool
) -> list[tuple[Step, str]]:
    """Each answer as (field, shown value), for the review screen and the profile card."""
    catalog = context.services.catalog
    language = t.language.value
    none = t.gettext("—")
    joiner = "、" if language == "zh" else ", "  # the enumeration comma in Chinese

    async def names(
        items: list[str], lookup: Callable[[str], Awaitable[CatalogItem | None]]
    ) -> str:
        shown = []
        for code in items:
            item = await lookup(code)
            shown.append(item.name(language) if item else code)
        return joiner.join(shown)

    area = none
    if data.area_code:
        item = await catalog.area(data.area_code)
        area = html(item.name(language) if item else data.area_code)
        if data.area_text:  # the street or place typed, under its district
            area = t.gettext("{district} ({place})").format(
                district=area, place=html(data.area_text)
            )
    elif data.area_text:
        area = html(data.area_text)
    slots = [t.gettext(label) for slot, label in SLOT_LABELS.items() if data.availability & slot]
    groups = [t.gettext(GROUP_LABELS[VolunteerGroup(code)]) for code in data.groups]
    rows: list[tuple[Step, str]] = [
        (Step.NAME, html(data.real_name) if data.real_name else none),
        (Step.PHONE, validation.format_phone_for_display(data.phone) if data.phone else none),
    ]
    if require_id_number:
        shown_id = validation.mask_id_number(data.id_number) if data.id_number else none
        rows.append((Step.ID_NUMBER, shown_id))
    rows += [
        (Step.GENDER, t.gettext(GENDER_LABELS[data.gender]) if data.gender else none),
        (Step.BIRTH_DATE, t.format_date(data.birth_date, "long") if data.birth_date else none),
        (Step.AREA, area),
        (Step.SKILLS, await names(data.skills, catalog.skill) or none),
        (Step.CATEGORIES, await names(data.categories, catalog.category) or none),
        (Step.AVAILABILITY, joiner.join(slots) or none),
        (Step.GROUPS, joiner.join(groups) or none),
    ]
    return rows
