"""The ``/new`` form: publishing an activity, one step at a time, from a draft in the database.

Handlers parse the update, call :class:`bot.services.publishing.PublishingService` and render the
step it leads to. The draft (answers and step) lives in ``activity_drafts``; the ``publish`` flow
(``handlers.flows``) owns the organizer's typed input while a step is shown, and is taken
*before* the step is shown, so a crash right after it loses nothing: the next message finds the
stored draft and answers its step. The fields and their steps are one table
(:mod:`bot.domain.activity_form`); each step is "step N of 16" (one number per field).

The training step (民政部令第67号 Art. 8) is one choice of three: no training, "requires a
training" or "is a training" (the last two open the organization's qualifications: pick one, or
type a new name, 1–40 characters). Its buttons say what they mean (``none``, ``r``/``g`` to open
the list, ``r<id>``/``g<id>`` to pick), and the screens' fingerprint includes whether the list is
open: a press from the other screen of the step is refused. "Volunteer service" follows it.

Every button of a form screen carries the step it was drawn for and a fingerprint of the draft
as drawn (:func:`bot.domain.activity_form.draft_seen`): a press acts only on exactly what the
user saw; an older screen's press (a stale "Back", "Done" or "Yes") is refused with a short
notice and changes nothing, and the message it is on is left as it was. Every press is
re-authorized by the service; someone who publishes nothing is never pointed to ``/new``.

```mermaid
stateDiagram-v2
    [*] --> step: /new · pub.new:<org> · pub.draft:<id> (Continue) · pub.orgs:<offset> (admins)
    step --> step: an answer (typed, a button, the calendar) · ⬅️ Back (the step before)
    step --> step: training "requires …" or "is a training …" opens the list (pick or type)
    step --> preview: the last step answered
    preview --> step: ✏️ Edit a field (its answer returns to the preview; Back too)
    preview --> step: ⬅️ Back (the last step)
    step --> [*]: 💾 Save draft and stop · 🗑 Discard · /cancel (the draft is kept)
    preview --> [*]: ✅ Publish · 💾 Save draft · 🗑 Discard
```
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.activities import PeopleServed, page_count
from bot.domain.activity_form import (
    EDITABLE_STEPS,
    FIELD_OF_STEP,
    FORM_STEPS,
    PublishStep,
    draft_seen,
    first_step_of,
    step_number,
)
from bot.domain.flows import FlowOwner
from bot.domain.qualifications import TrainingChoice, training_value
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from bot.services.publishing import (
    ORGANIZATIONS_PAGE,
    ActivityDraft,
    NoDraft,
    PublishingService,
    WrongStep,
)
from bot.services.signups import Viewer
from handlers import calendar_keyboard as cal
from handlers.activity_edit import EditActivity
from handlers.activity_view import (
    NOWHERE,
    PEOPLE_SERVED,
    Names,
    OpenCard,
    card_text,
    short_when,
    when,
)
from handlers.callbacks import Press, button_rows, legacy_fields, parse_id
from handlers.flows import Flow, release, take
from handlers.manage_buttons import ManageCard
from handlers.press_table import PressHandler, PressTable, press_handlers, stale_press
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS, staff_refusing

log = logging.getLogger(__name__)

FLOW = "publish"
Step = PublishStep


# ------------------------------------------------------------------------------ typed buttons


class PublishFor(Press, prefix="pub.new"):
    """A new draft for this organization (other screens link it too)."""

    organization_id: int


class ResumeDraft(Press, prefix="pub.draft"):
    """Continue this draft (the organization's drafts list and /new's "Continue")."""

    draft_id: int


class PublishOrganizations(Press, prefix="pub.orgs"):
    """An administrator's page of organizations to publish for."""

    offset: int


class FormChoice(Press, prefix="pub.pick"):
    """One button of a step: a list entry, yes ("1") / no ("0"), or "-" (skip, none, mine)."""

    step: PublishStep
    seen: str
    code: str


class FormToggle(Press, prefix="pub.tog"):
    step: PublishStep
    seen: str
    code: str


class FormDone(Press, prefix="pub.done"):
    step: PublishStep
    seen: str


class FormBack(Press, prefix="pub.back"):
    step: PublishStep
    seen: str


class FormShow(Press, prefix="pub.show"):
    """Back to the step's own screen (from the field list or the discard question)."""

    step: PublishStep
    seen: str


class FormMonth(Press, prefix="pub.month"):
    step: PublishStep
    seen: str
    month: int  # yyyymm


class FormDay(Press, prefix="pub.day"):
    step: PublishStep
    seen: str
    day: int  # yyyymmdd


class FormHour(Press, prefix="pub.hour"):
    step: PublishStep
    seen: str
    hour: int


class FormMinute(Press, prefix="pub.min"):
    step: PublishStep
    seen: str
    minute: int


class FormUnpick(Press, prefix="pub.unpick"):
    """Back from the hours or minutes to the calendar."""

    step: PublishStep
    seen: str


class FormNoop(Press, prefix="pub.noop"):
    """A calendar label or a day that cannot be picked."""


class FormFields(Press, prefix="pub.fields"):
    """The preview's "Edit a field": the list of fields."""

    seen: str


class FormEditField(Press, prefix="pub.field"):
    """A field chosen from the preview's list (by the step that asks it)."""

    seen: str
    field: PublishStep


class FormPublish(Press, prefix="pub.publish"):
    seen: str


class FormSave(Press, prefix="pub.save"):
    draft_id: int


class FormDiscard(Press, prefix="pub.discard"):
    draft_id: int
    step: PublishStep
    seen: str
    confirmed: bool


# Every family that names a step and a draft fingerprint: checked the same way before acting.
_DRAWN = (
    FormChoice,
    FormToggle,
    FormDone,
    FormBack,
    FormShow,
    FormMonth,
    FormDay,
    FormHour,
    FormMinute,
    FormUnpick,
)


class Stale(Exception):
    """A press drawn for another step or another state of the draft than the one stored."""


def service(context: ZyContext) -> PublishingService:
    return context.services.publishing


def seen(draft: ActivityDraft) -> str:
    """What a step's buttons carry: this draft at this step. A press means "answer this step"
    (pick, toggle, Done, Back), which stays true while the step is the same, also for a quick
    second tap before the screen was redrawn."""
    return draft_seen(draft.draft_id, draft.step, draft.data.training_mode or "")


def seen_content(draft: ActivityDraft) -> str:
    """What ✅ Publish carries: the draft's every answer as the preview showed them. Publishing
    something else than what was shown (a field changed since, here or by a co-organizer) is
    refused."""
    return draft_seen(draft.draft_id, draft.step, draft.data.model_dump_json())


def _check(selected: bool, label: str) -> str:
    return f"✓ {label}" if selected else label


# ----------------------------------------------------------------------------------- screens


def _progress(t: Translator, step: Step) -> str:
    number = step_number(step)
    if number is None:
        return t.gettext("New activity")
    return t.gettext("New activity, step {number} of {total}").format(
        number=number, total=FORM_STEPS
    )


def _footer(t: Translator, draft: ActivityDraft) -> list[list[InlineKeyboardButton]]:
    """Back (every step but the first) and "Save draft and stop", under every step."""
    rows: list[list[InlineKeyboardButton]] = []
    if draft.step is not Step.TITLE:
        rows.append([FormBack(draft.step, seen(draft)).button(t.gettext("⬅️ Back"))])
    rows.append([FormSave(draft.draft_id).button(t.gettext("💾 Save draft and stop"))])
    return rows


async def render(
    draft: ActivityDraft, context: ZyContext, month: tuple[int, int] | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the draft's step (``month``: the calendar page the user turned to)."""
    step = draft.step
    if step is Step.PREVIEW:
        return await _preview_screen(draft, context)
    if step in (Step.START, Step.END):
        return _time_screen(draft, context, month)
    t = context.t
    text, rows = await _SCREENS[step](draft, context, _progress(t, step))
    return text, InlineKeyboardMarkup([*rows, *_footer(t, draft)])


Rows = list[list[InlineKeyboardButton]]
Screen = Callable[[ActivityDraft, ZyContext, str], Awaitable[tuple[str, Rows]]]


def _pick(draft: ActivityDraft, code: str, label: str) -> InlineKeyboardButton:
    return FormChoice(draft.step, seen(draft), code).button(label)


def _toggle(draft: ActivityDraft, code: str, label: str) -> InlineKeyboardButton:
    return FormToggle(draft.step, seen(draft), code).button(label)


async def _title_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    text = context.t.gettext(
        "{progress}: the <b>title</b> volunteers will see (2–60 characters), e.g. "
        "“Blood pressure checks for seniors”."
    ).format(progress=progress)
    return text, []


async def _category_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    language = t.language.value
    text = t.gettext("{progress}: the <b>kind of service</b>.").format(progress=progress)
    buttons = [
        _pick(draft, item.code, _check(item.code == draft.data.category_code, item.name(language)))
        for item in await context.services.catalog.categories()
    ]
    return text, button_rows(buttons, 2)


async def _description_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    text = t.gettext(
        "{progress}: a short <b>description</b>: what volunteers will do, what to bring "
        "(up to 1000 characters). You may skip it."
    ).format(progress=progress)
    return text, [[_pick(draft, "-", t.gettext("Skip"))]]


async def _place_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    text = context.t.gettext(
        "{progress}: the <b>place</b> (address or meeting point, up to 100 characters)."
    ).format(progress=progress)
    return text, []


async def _location_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    text = t.gettext(
        "{progress}: optionally, send a <b>map pin</b> (📎 → Location) so volunteers nearby "
        "find the activity, or skip."
    ).format(progress=progress)
    return text, [[_pick(draft, "-", t.gettext("Skip"))]]


async def _area_screen(draft: ActivityDraft, context: ZyContext, progress: str) -> tuple[str, Rows]:
    t = context.t
    language = t.language.value
    text = t.gettext("{progress}: the <b>district</b> where it takes place.").format(
        progress=progress
    )
    buttons = [
        _pick(draft, item.code, _check(item.code == draft.data.area_code, item.name(language)))
        for item in await context.services.catalog.areas()
    ]
    return text, [*button_rows(buttons, 2), [_pick(draft, "-", t.gettext("Skip"))]]


async def _capacity_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    text = context.t.gettext(
        "{progress}: how many <b>volunteers</b> are needed? Type a number from 1 to 10,000."
    ).format(progress=progress)
    return text, []


def _done(draft: ActivityDraft, t: Translator) -> list[InlineKeyboardButton]:
    return [FormDone(draft.step, seen(draft)).button(t.gettext("Done ➡️"))]


async def _skills_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    language = t.language.value
    text = t.gettext(
        "{progress}: <b>required skills</b> (only volunteers with all of them can sign "
        "up). Tap to select, then Done; none is fine."
    ).format(progress=progress)
    buttons = [
        _toggle(
            draft, item.code, _check(item.code in draft.data.required_skills, item.name(language))
        )
        for item in await context.services.catalog.skills()
    ]
    return text, [*button_rows(buttons, 2), _done(draft, t)]


async def _yes_no_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    text = t.gettext("{progress}: is it for <b>adults (18+) only</b>?")
    row = [_pick(draft, "1", t.gettext("Yes")), _pick(draft, "0", t.gettext("No"))]
    return text.format(progress=progress), [row]


async def _training_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    """No training, requires one, or is one; the last two open the organization's list."""
    t = context.t
    data = draft.data
    mode = data.training_mode
    if mode is None:
        text = t.gettext(
            "{progress}: <b>training</b> (先培训再上岗). Does this activity need a training "
            "first, or is it itself a training?"
        ).format(progress=progress)
        nothing = data.requires_qualification_id is None and data.grants_qualification_id is None
        rows = [
            [
                _pick(
                    draft,
                    TrainingChoice.NONE.value,
                    _check(nothing, t.gettext("No training needed")),
                )
            ],
            [
                _pick(
                    draft,
                    TrainingChoice.REQUIRES.value,
                    _check(
                        data.requires_qualification_id is not None,
                        t.gettext("🎓 Requires a training…"),
                    ),
                )
            ],
            [
                _pick(
                    draft,
                    TrainingChoice.GRANTS.value,
                    _check(
                        data.grants_qualification_id is not None,
                        t.gettext("📜 This activity is a training…"),
                    ),
                )
            ],
        ]
        return text, rows
    if mode is TrainingChoice.REQUIRES:
        text = t.gettext(
            "{progress}: which <b>qualification</b> must volunteers hold to sign up? Choose one "
            "of your organization's, or type a new name (1–40 characters), e.g. 急救证."
        )
        chosen = data.requires_qualification_id
    else:
        text = t.gettext(
            "{progress}: completing this training grants which <b>qualification</b>? Choose "
            "one of your organization's, or type a new name (1–40 characters), e.g. 急救证."
        )
        chosen = data.grants_qualification_id
    qualifications = await service(context).qualifications_of(draft.organization_id)
    buttons = [
        _pick(
            draft,
            training_value(mode, q.qualification_id),
            _check(q.qualification_id == chosen, q.name),
        )
        for q in qualifications
    ]
    return text.format(progress=progress), button_rows(buttons, 2)


async def _volunteering_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    text = t.gettext(
        "{progress}: is this <b>volunteer service</b>? Choose No for an activity that is not "
        "(a meeting, a celebration): its hours are not recorded."
    ).format(progress=progress)
    value = draft.data.is_volunteering
    row = [
        _pick(draft, "1", _check(value, t.gettext("Yes"))),
        _pick(draft, "0", _check(not value, t.gettext("No"))),
    ]
    return text, [row]


async def _people_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    text = t.gettext(
        "{progress}: <b>people served</b> (optional). Tap all that apply, then Done."
    ).format(progress=progress)
    buttons = [
        _toggle(
            draft,
            group.value,
            _check(group in draft.data.people_served, t.gettext(PEOPLE_SERVED[group.value])),
        )
        for group in PeopleServed
    ]
    return text, [*button_rows(buttons, 2), _done(draft, t)]


async def _deadline_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    text = t.gettext(
        "{progress}: a <b>sign-up deadline</b> before the start? Type it like the date "
        "(e.g. 12/3 18:00), or tap “No deadline” (sign-up stays open until the start)."
    ).format(progress=progress)
    return text, [[_pick(draft, "-", t.gettext("No deadline"))]]


async def _leader_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    suggestion = await service(context).leader_suggestion(context.user.telegram_id)
    text = t.gettext(
        "{progress}: the <b>person in charge</b> (活动负责人) shown on records. Type a name "
        "or use yours."
    ).format(progress=progress)
    rows = [[_pick(draft, "-", t.gettext("Use “{name}”").format(name=suggestion))]]
    return text, rows if suggestion else []


async def _key_date_screen(
    draft: ActivityDraft, context: ZyContext, progress: str
) -> tuple[str, Rows]:
    t = context.t
    language = t.language.value
    choices = await service(context).key_date_choices(draft.data)
    names = ", ".join(k.name(language) for k in choices)
    text = t.gettext(
        "{progress}: the activity is close to <b>{names}</b>. Tag it, so it appears in the "
        "campaign?"
    ).format(progress=progress, names=html(names))
    buttons = [
        _pick(draft, k.code, t.gettext("🏷 {name}").format(name=k.name(language))) for k in choices
    ]
    return text, [buttons, [_pick(draft, "-", t.gettext("No tag"))]]


_SCREENS: dict[Step, Screen] = {
    Step.TITLE: _title_screen,
    Step.CATEGORY: _category_screen,
    Step.DESCRIPTION: _description_screen,
    Step.PLACE: _place_screen,
    Step.LOCATION: _location_screen,
    Step.AREA: _area_screen,
    Step.CAPACITY: _capacity_screen,
    Step.SKILLS: _skills_screen,
    Step.TRAINING: _training_screen,
    Step.VOLUNTEERING: _volunteering_screen,
    Step.ADULTS: _yes_no_screen,
    Step.PEOPLE: _people_screen,
    Step.DEADLINE: _deadline_screen,
    Step.LEADER: _leader_screen,
    Step.KEY_DATE: _key_date_screen,
}


def _calendar_buttons(draft: ActivityDraft) -> cal.CalendarButtons:
    step, drawn = draft.step, seen(draft)
    return cal.CalendarButtons(
        month=lambda year, month: FormMonth(step, drawn, cal.month_code(year, month)).pack(),
        day=lambda day: FormDay(step, drawn, cal.day_code(day)).pack(),
        hour=lambda hour: FormHour(step, drawn, hour).pack(),
        minute=lambda minute: FormMinute(step, drawn, minute).pack(),
        unpick=FormUnpick(step, drawn).pack(),
        noop=FormNoop().pack(),
    )


def _time_screen(
    draft: ActivityDraft, context: ZyContext, month: tuple[int, int] | None
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    svc = service(context)
    data = draft.data
    progress = _progress(t, draft.step)
    if draft.step is Step.START:
        text = t.gettext(
            "{progress}: <b>when</b> is it? Type the date and time, e.g. 2026-12-05 09:00-11:30, "
            "12/5 9:00-11:30 or 12月5日 下午2点-4点, or pick the day below."
        ).format(progress=progress)
    else:
        assert data.starts_at is not None
        text = t.gettext(
            "{progress}: starts {start}. When does it <b>end</b>? Type a time (e.g. 11:30) or "
            "pick it below."
        ).format(progress=progress, start=short_when(t, data.starts_at))
    buttons = _calendar_buttons(draft)
    footer = _footer(t, draft)
    if data.picked_day is not None and data.picked_hour is not None:
        text += "\n\n" + t.gettext("{day}: now the minutes.").format(
            day=data.picked_day.isoformat()
        )
        # The minutes' own Back returns to the calendar; the step's Back would be a second one.
        return text, cal.minute_keyboard(buttons, t, data.picked_hour, extra=footer[-1:])
    if data.picked_day is not None:
        text += "\n\n" + t.gettext("{day}: now the hour.").format(day=data.picked_day.isoformat())
        return text, cal.hour_keyboard(buttons, t, extra=footer[-1:])
    today = svc.today()
    shown = (
        data.starts_at.astimezone(svc.tz).date()
        if draft.step is Step.END and data.starts_at
        else today
    )
    year_month = month or (shown.year, shown.month)
    return text, cal.month_keyboard(buttons, t, today, *year_month, extra=footer)


async def _preview_screen(
    draft: ActivityDraft, context: ZyContext
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    svc = service(context)
    activity = await svc.preview(draft)
    names = await Names.load(context.services, t)
    card = card_text(t, activity, Viewer(profile=None), names, svc.now())
    extra: list[str] = []
    if activity.leader_name:
        extra.append(
            t.gettext("👤 Person in charge: {name}").format(name=html(activity.leader_name))
        )
    if activity.is_volunteering:
        # The card says only when it is not; the organizer sees the answer either way.
        extra.append(t.gettext("🙋 Volunteer service: hours are recorded"))
    if activity.key_date:
        # The key date's name, never its code.
        near = {k.code: k for k in await svc.key_date_choices(draft.data)}
        tag = near.get(activity.key_date)
        name = tag.name(t.language.value) if tag is not None else activity.key_date
        extra.append(t.gettext("🏷 Key date: {name}").format(name=html(name)))
    header = t.gettext("<b>Preview</b> — this is how volunteers will see it:")
    text = "\n".join([header, "", card, *extra])
    drawn = seen(draft)
    rows = [
        [FormPublish(seen_content(draft)).button(t.gettext("✅ Publish"))],
        [FormFields(drawn).button(t.gettext("✏️ Edit a field"))],
        [
            FormSave(draft.draft_id).button(t.gettext("💾 Save draft")),
            FormDiscard(draft.draft_id, draft.step, drawn, False).button(t.gettext("🗑 Discard")),
        ],
        [FormBack(draft.step, drawn).button(t.gettext("⬅️ Back"))],
    ]
    return text, InlineKeyboardMarkup(rows)


def _fields_keyboard(t: Translator, draft: ActivityDraft) -> InlineKeyboardMarkup:
    drawn = seen(draft)
    buttons = [
        FormEditField(drawn, step).button(t.gettext(FIELD_OF_STEP[step].label))
        for step in EDITABLE_STEPS
    ]
    back = FormShow(draft.step, drawn).button(t.gettext("⬅️ Back"))
    return InlineKeyboardMarkup([*button_rows(buttons, 2), [back]])


async def present(
    update: Update,
    context: ZyContext,
    draft: ActivityDraft,
    *,
    notice: str | None = None,
    month: tuple[int, int] | None = None,
) -> None:
    """Show the draft's step. The flow takes the typed input first: a crash between the two
    leaves the input with the form, whose step is already stored."""
    await take(context, FLOW, draft.step.value, {"draft": draft.draft_id})
    text, markup = await render(draft, context, month)
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, markup)


# ------------------------------------------------------------------------------------- entry


async def _publishes(context: ZyContext) -> bool:
    """Whether this person may publish at all (an organizer or an administrator): only they are
    pointed to /new; anyone else pressing an old or forged form button is just told it is no
    longer valid."""
    user_id = context.user.telegram_id
    if await context.services.staff.organizations_of(user_id):
        return True
    return await service(context).is_admin(user_id)


@staff_refusing
async def enter(update: Update, context: ZyContext) -> None:
    """/new: continue a draft, or pick the organization to publish for (administrators may pick
    any approved organization, also one they are no member of)."""
    await answer(update)
    t = context.t
    svc = service(context)
    user_id = context.user.telegram_id
    organizations = await context.services.staff.organizations_of(user_id)
    current = await svc.current_or_none(user_id)
    admin = await svc.is_admin(user_id)
    if not organizations and current is None and not admin:
        await send(
            update,
            t.gettext(
                "Only organizers of an approved organization can publish activities. "
                "Apply with /organize."
            ),
        )
        return
    if current is None and len(organizations) == 1 and not admin:
        await _start(update, context, organizations[0][0].organization_id)
        return
    rows: list[list[InlineKeyboardButton]] = []
    if current is not None:
        title = current.data.title or t.gettext("(untitled)")
        label = t.gettext("▶️ Continue “{title}”").format(title=title[:30])
        rows.append([ResumeDraft(current.draft_id).button(label)])
    if admin and not organizations:
        text, markup = await _organizations_page(context, 0, rows)
        await send(update, text, markup)
        return
    for organization, _role in organizations:
        label = t.gettext("➕ New activity for {name}").format(name=organization.name[:30])
        rows.append([PublishFor(organization.organization_id).button(label)])
    if admin:
        rows.append([PublishOrganizations(0).button(t.gettext("🏢 Another organization…"))])
    await send(update, t.gettext("What would you like to do?"), InlineKeyboardMarkup(rows))


async def _organizations_page(
    context: ZyContext, offset: int, rows: list[list[InlineKeyboardButton]] | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """An administrator's pick among the approved organizations (raises ``StaffRefused``,
    answered by the callers' ``staff_refusing``)."""
    t = context.t
    organizations, total = await service(context).organizations_to_pick(
        context.user.telegram_id, offset
    )
    rows = list(rows or [])
    if not total:
        text = t.gettext(
            "There is no approved organization yet: approve an application in /admin first."
        )
        return text, InlineKeyboardMarkup(rows)
    size = ORGANIZATIONS_PAGE
    page, pages = offset // size + 1, page_count(total, size)
    text = t.gettext(
        "You are an administrator: choose the organization to publish for (page {page} of {pages})."
    ).format(page=page, pages=pages)
    rows.extend([PublishFor(o.organization_id).button(f"➕ {o.name[:40]}")] for o in organizations)
    navigation = []
    if offset > 0:
        navigation.append(PublishOrganizations(max(offset - size, 0)).button("‹"))
    if offset + len(organizations) < total:
        navigation.append(PublishOrganizations(offset + len(organizations)).button("›"))
    if navigation:
        rows.append(navigation)
    return text, InlineKeyboardMarkup(rows)


@staff_refusing
async def _start(update: Update, context: ZyContext, organization_id: int) -> None:
    draft = await service(context).start(context.user.telegram_id, organization_id)
    await answer(update)
    await present(update, context, draft)


def legacy_press(data: str) -> Press | None:
    """``pub:new:<org>`` and ``pub:draft:<id>`` (drawn before the typed families, and still
    drawn by the organization and manage screens and the campaign notices): read as the same
    presses, acted on as seen. Any other ``pub:`` button does not say which step it was drawn
    for, so it is ``None``: refused as no longer valid."""
    if (found := legacy_fields(data, "pub", "new", parse_id)) is not None:
        return PublishFor(*found)
    if (found := legacy_fields(data, "pub", "draft", parse_id)) is not None:
        return ResumeDraft(*found)
    return None


async def on_new(update: Update, context: ZyContext, press: PublishFor) -> None:
    await _start(update, context, press.organization_id)


async def on_resume(update: Update, context: ZyContext, press: ResumeDraft) -> None:
    try:
        draft = await service(context).resume(context.user.telegram_id, press.draft_id)
    except NoDraft:
        await answer(
            update, context.t.gettext("This draft was published or discarded."), alert=True
        )
        return
    await answer(update)
    await present(update, context, draft)


async def on_organizations(update: Update, context: ZyContext, press: PublishOrganizations) -> None:
    text, markup = await _organizations_page(context, press.offset)
    await answer(update)
    await show(update, text, markup)


# ----------------------------------------------------------------------------------- answers

TypedSetter = Callable[[PublishingService, int, str, str], Awaitable[ActivityDraft]]

#: What a typed answer does at each step that takes one (the others ask for a button).
TYPED: dict[Step, TypedSetter] = {
    Step.TITLE: lambda svc, user, text, language: svc.set_title(user, text),
    Step.DESCRIPTION: lambda svc, user, text, language: svc.set_description(user, text),
    Step.START: lambda svc, user, text, language: svc.set_start_text(user, text, language),
    Step.END: lambda svc, user, text, language: svc.set_end_text(user, text, language),
    Step.PLACE: lambda svc, user, text, language: svc.set_place(user, text),
    Step.CAPACITY: lambda svc, user, text, language: svc.set_capacity(user, text),
    Step.DEADLINE: lambda svc, user, text, language: svc.set_deadline(user, text, language),
    Step.LEADER: lambda svc, user, text, language: svc.set_leader(user, text),
    # A new qualification's name, while the training step's list is open.
    Step.TRAINING: lambda svc, user, text, language: svc.name_training(user, text),
}

ChoiceSetter = Callable[[PublishingService, int, str | None], Awaitable[ActivityDraft]]


def _only_none(
    setter: Callable[[PublishingService, int], Awaitable[ActivityDraft]],
) -> ChoiceSetter:
    """A step whose one button is "skip" / "none" / "mine" (``-``); any other code is forged."""

    async def choose(svc: PublishingService, user: int, code: str | None) -> ActivityDraft:
        if code is not None:
            raise WrongStep
        return await setter(svc, user)

    return choose


def _yes_no(svc: PublishingService, user: int, code: str | None) -> Awaitable[ActivityDraft]:
    if code not in ("1", "0"):
        raise WrongStep
    return svc.set_flag(user, code == "1")


async def _training(svc: PublishingService, user: int, code: str | None) -> ActivityDraft:
    if code is None:
        raise WrongStep
    return await svc.choose_training(user, code)


async def _category(svc: PublishingService, user: int, code: str | None) -> ActivityDraft:
    if code is None:
        raise WrongStep
    return await svc.set_category(user, code)


#: What a button of each step does (``None`` for "-": skip, none, or use mine).
CHOICES: dict[Step, ChoiceSetter] = {
    Step.CATEGORY: _category,
    Step.DESCRIPTION: _only_none(lambda svc, user: svc.set_description(user, None)),
    Step.LOCATION: _only_none(lambda svc, user: svc.set_location(user, None, None)),
    Step.AREA: lambda svc, user, code: svc.set_area(user, code),
    Step.TRAINING: _training,
    Step.VOLUNTEERING: _yes_no,
    Step.ADULTS: _yes_no,
    Step.DEADLINE: _only_none(lambda svc, user: svc.set_deadline(user, None, "en")),
    Step.LEADER: _only_none(lambda svc, user: svc.set_leader(user, None)),
    Step.KEY_DATE: lambda svc, user, code: svc.set_key_date(user, code),
}

#: The multi-select steps' toggles.
TOGGLES: dict[Step, Callable[[PublishingService, int, str], Awaitable[ActivityDraft]]] = {
    Step.SKILLS: lambda svc, user, code: svc.toggle_skill(user, code),
    Step.PEOPLE: lambda svc, user, code: svc.toggle_people(user, code),
}


@staff_refusing
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    """A typed answer: for the step the stored draft stands at (the question shown last)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    svc = service(context)
    user_id = context.user.telegram_id
    t = context.t
    try:
        draft = await svc.current(user_id)
    except NoDraft:
        await _lost(update, context)
        return
    setter = TYPED.get(draft.step)
    if setter is None:
        await present(update, context, draft, notice=t.gettext("Please use the buttons below."))
        return
    try:
        draft = await setter(svc, user_id, message.text, t.language.value)
    except InvalidInput as error:
        draft = await svc.current(user_id)
        await present(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
        return
    await present(update, context, draft)


async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    svc = service(context)
    user_id = context.user.telegram_id
    try:
        draft = await svc.set_location(
            user_id, message.location.latitude, message.location.longitude
        )
    except NoDraft:
        await _lost(update, context)
        return
    except WrongStep:
        draft = await svc.current(user_id)
        notice = context.t.gettext("Please use the buttons below.")
        await present(update, context, draft, notice=notice)
        return
    await present(update, context, draft)


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    """A photo, a contact, …: the step is shown again."""
    try:
        draft = await service(context).current(context.user.telegram_id)
    except NoDraft:
        await _lost(update, context)
        return
    await present(update, context, draft, notice=context.t.gettext("Please use the buttons below."))


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(
        update,
        context.t.gettext("Stopped. A draft keeps its answers: continue any time with /new."),
    )


async def _lost(update: Update, context: ZyContext) -> None:
    """No draft to act on: published or discarded (perhaps by a co-organizer), or never
    started. Only someone who publishes is pointed to /new."""
    await release(context, FLOW)
    t = context.t
    if await _publishes(context):
        text = t.gettext("This draft was published or discarded. Start a new one with /new.")
    else:
        text = t.gettext(GENERIC)
    if update.callback_query is not None:
        await answer(update, text, alert=True)
    else:
        await send(update, text)


# ------------------------------------------------------------------------------------ presses

P = TypeVar("P", bound=Press)
#: A press's action on the draft it was drawn for; returns the draft to show (``None``: the
#: action rendered its own screen).
Action = Callable[[Update, ZyContext, Any, ActivityDraft], Awaitable[ActivityDraft | None]]


async def _drawn(context: ZyContext, step: Step, drawn: str) -> ActivityDraft:
    """The current draft, if it is still exactly what the pressed screen showed."""
    draft = await service(context).current(context.user.telegram_id)
    if draft.step is not step or seen(draft) != drawn:
        raise Stale
    return draft


def _on_press(action: Action) -> PressHandler:
    """A handler for one family of form buttons (parsed strictly by the table): checked
    against the stored draft (stale or forged presses change nothing), then ``action``; one
    way to answer each failure."""

    async def handler(update: Update, context: ZyContext, press: Any) -> None:
        t = context.t
        svc = service(context)
        user_id = context.user.telegram_id
        month: tuple[int, int] | None = None
        try:
            if isinstance(press, FormMonth):
                month = cal.parse_month(str(press.month))
                if month is None:
                    raise WrongStep
            if isinstance(press, _DRAWN):
                draft = await _drawn(context, press.step, press.seen)
            else:
                draft = await svc.current(user_id)
            shown = await action(update, context, press, draft)
        except NoDraft:
            await _lost(update, context)
            return
        except (Stale, WrongStep):
            # Drawn for another step or an older state (or forged): nothing changes, and the
            # message it is on stays as it was.
            await answer(update, t.gettext(GENERIC), alert=True)
            return
        except InvalidInput as error:
            notice = error.translate(t.gettext)
            await answer(update, notice, alert=True)
            await present(update, context, await svc.current(user_id), notice="⚠️ " + notice)
            return
        await answer(update)
        if shown is not None:
            await present(update, context, shown, month=month)

    handler.__name__ = f"on_{getattr(action, '__name__', 'press')}"
    return handler


async def _choose(
    update: Update, context: ZyContext, press: FormChoice, draft: ActivityDraft
) -> ActivityDraft:
    choose = CHOICES.get(draft.step)
    if choose is None:
        raise WrongStep
    code = None if press.code == "-" else press.code
    return await choose(service(context), context.user.telegram_id, code)


async def _toggle_press(
    update: Update, context: ZyContext, press: FormToggle, draft: ActivityDraft
) -> ActivityDraft:
    toggle = TOGGLES.get(draft.step)
    if toggle is None:
        raise WrongStep
    return await toggle(service(context), context.user.telegram_id, press.code)


async def _done_press(
    update: Update, context: ZyContext, press: FormDone, draft: ActivityDraft
) -> ActivityDraft:
    return await service(context).done(context.user.telegram_id)


async def _back_press(
    update: Update, context: ZyContext, press: FormBack, draft: ActivityDraft
) -> ActivityDraft:
    return await service(context).back(context.user.telegram_id, press.step)


async def _show_press(
    update: Update, context: ZyContext, press: Press, draft: ActivityDraft
) -> ActivityDraft:
    return draft


async def _day_press(
    update: Update, context: ZyContext, press: FormDay, draft: ActivityDraft
) -> ActivityDraft:
    day = cal.parse_day(str(press.day))
    if day is None:
        raise WrongStep
    return await service(context).pick_day(context.user.telegram_id, day)


async def _hour_press(
    update: Update, context: ZyContext, press: FormHour, draft: ActivityDraft
) -> ActivityDraft:
    return await service(context).pick_hour(context.user.telegram_id, press.hour)


async def _minute_press(
    update: Update, context: ZyContext, press: FormMinute, draft: ActivityDraft
) -> ActivityDraft:
    return await service(context).pick_minute(context.user.telegram_id, press.minute)


async def _unpick_press(
    update: Update, context: ZyContext, press: FormUnpick, draft: ActivityDraft
) -> ActivityDraft:
    return await service(context).unpick(context.user.telegram_id)


def _preview_drawn(draft: ActivityDraft, drawn: str, *, content: bool = False) -> None:
    """The preview's own buttons: only while the draft is at the preview (for ✅ Publish: with
    exactly the answers it showed)."""
    token = seen_content(draft) if content else seen(draft)
    if draft.step is not Step.PREVIEW or token != drawn:
        raise Stale


async def _fields_press(
    update: Update, context: ZyContext, press: FormFields, draft: ActivityDraft
) -> None:
    _preview_drawn(draft, press.seen)
    await answer(update)
    await show(
        update,
        context.t.gettext("Which field do you want to change?"),
        _fields_keyboard(context.t, draft),
    )


async def _edit_field_press(
    update: Update, context: ZyContext, press: FormEditField, draft: ActivityDraft
) -> ActivityDraft:
    _preview_drawn(draft, press.seen)
    if not first_step_of(press.field):
        raise WrongStep
    return await service(context).edit_from_preview(context.user.telegram_id, press.field)


async def _publish_press(
    update: Update, context: ZyContext, press: FormPublish, draft: ActivityDraft
) -> None:
    _preview_drawn(draft, press.seen, content=True)
    t = context.t
    activity = await service(context).publish(context.user.telegram_id)
    await release(context, FLOW)
    await answer(update)
    text = t.gettext(
        "🎉 <b>{title}</b> is published ({when}). Volunteers can now find it in the service "
        "menu and sign up."
    ).format(title=html(activity.title), when=when(t, activity))
    rows = [
        [OpenCard(activity.activity_id, NOWHERE).button(t.gettext("🔎 Open the card"))],
        [EditActivity(activity.activity_id).button(t.gettext("✏️ Edit"))],
        [ManageCard(activity.activity_id).button(t.gettext("📋 Manage the activity"))],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def _save_press(
    update: Update, context: ZyContext, press: FormSave, draft: ActivityDraft
) -> None:
    if draft.draft_id != press.draft_id:
        raise Stale  # another draft is being filled now
    t = context.t
    await release(context, FLOW)
    await answer(update)
    title = draft.data.title or t.gettext("(untitled)")
    await show(
        update,
        t.gettext(
            "💾 Draft “{title}” saved. Continue it any time with /new or from your "
            "organization's drafts."
        ).format(title=html(title)),
    )


async def _discard_press(
    update: Update, context: ZyContext, press: FormDiscard, draft: ActivityDraft
) -> None:
    if draft.draft_id != press.draft_id:
        raise Stale
    t = context.t
    if not press.confirmed:
        await answer(update)
        await show(
            update,
            t.gettext("Discard this draft? Its answers will be deleted."),
            InlineKeyboardMarkup(
                [
                    [
                        FormDiscard(press.draft_id, press.step, press.seen, True).button(
                            t.gettext("🗑 Yes, discard")
                        )
                    ],
                    [FormShow(press.step, press.seen).button(t.gettext("⬅️ Back"))],
                ]
            ),
        )
        return
    await service(context).discard(context.user.telegram_id)
    await release(context, FLOW)
    await answer(update)
    await show(update, t.gettext("🗑 The draft is discarded."))


async def on_noop(update: Update, context: ZyContext, press: FormNoop) -> None:
    await answer(update)


#: Each form button family and what its press does on the draft.
ACTIONS: tuple[tuple[type[Press], Action], ...] = (
    (FormChoice, _choose),
    (FormToggle, _toggle_press),
    (FormDone, _done_press),
    (FormBack, _back_press),
    (FormShow, _show_press),
    (FormMonth, _show_press),
    (FormDay, _day_press),
    (FormHour, _hour_press),
    (FormMinute, _minute_press),
    (FormUnpick, _unpick_press),
    (FormFields, _fields_press),
    (FormEditField, _edit_field_press),
    (FormPublish, _publish_press),
    (FormSave, _save_press),
    (FormDiscard, _discard_press),
)

#: Every button family of the form and its handler.
PRESSES: PressTable = {
    PublishFor: on_new,
    ResumeDraft: on_resume,
    PublishOrganizations: on_organizations,
    FormNoop: on_noop,
    **{family: _on_press(action) for family, action in ACTIONS},
}

#: A staff refusal anywhere in a press is answered as ``refuse_staff`` words it.
TEXTS = RefusalTexts(STAFF_REFUSALS)


# -------------------------------------------------------------------------------- wiring


FLOWS: list[Flow] = [
    Flow(
        FLOW,
        on_text=on_text,
        on_location=on_location,
        on_cancel=on_cancel,
        on_other=on_other,
    )
]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("new", enter))
    # Malformed data of a family, and an old ``pub:`` button that does not say what it was
    # drawn for, are answered as no longer valid (the text of a staff NOT_FOUND too).
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=stale_press, legacy=(r"^pub:", legacy_press)
    ):
        application.add_handler(handler, group)
