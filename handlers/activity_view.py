"""Rendering activities: list lines, the detail card and its buttons, refusals.

Shared by the service menu (``handlers.browse``), sign-up actions (``handlers.signup``), "My
sign-ups" (``handlers.my``) and notifications. Nothing here changes state.

A :class:`View` records where a card was opened from (a category page, "For you", "My
sign-ups" ...). It travels in the callback data of the card's buttons, so Back returns to the
same list and page even after a restart, with nothing kept on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import Services
from bot.domain.activities import Activity, ActivityStatus, SignupStatus
from bot.domain.deeplinks import activity_payload
from bot.domain.matching import Match, Reason, ReasonKind
from bot.domain.volunteers import Slot
from bot.i18n import N_, Translator
from bot.services.activity_management import shown_cancel_reason
from bot.services.signups import Refusal, SignupRefused, Viewer
from handlers.callbacks import (
    MenuItem,
    MenuOpen,
    Press,
    RegisterFor,
    callback,
    parse_id,
    parse_page,
    split,
)
from handlers.render import html
from handlers.signup_buttons import (
    OfferAccept,
    OfferDecline,
    SignupCalendar,
    SignupCancelAsk,
    SignupJoin,
    SignupMap,
    SignupResume,
    SignupWait,
)

_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_PAGE = 999
MAX_VIEW_CODE = 32  # a str field of a typed button (handlers.callbacks.Press)

# View kinds: the lists a card can be opened from.
CATEGORIES = "cats"
CATEGORY = "c"
THIS_WEEK = "wk"
WEEKEND = "we"
FOR_YOU = "fy"
NEAR = "nr"
SEARCH = "sr"
MY_UPCOMING = "my"
MY_PAST = "mp"
NOWHERE = "x"  # a deep link or a notification: Back leads to the service menu

_PAGED = {THIS_WEEK, WEEKEND, NEAR, SEARCH}
_PLAIN = {CATEGORIES, FOR_YOU, MY_UPCOMING, MY_PAST, NOWHERE}


@dataclass(frozen=True)
class View:
    kind: str
    arg: str = ""
    page: int = 0

    def parts(self) -> list[str | int]:
        if self.kind == CATEGORY:
            return [CATEGORY, self.arg, self.page]
        if self.kind in _PAGED:
            return [self.kind, self.page]
        return [self.kind]

    def at_page(self, page: int) -> View:
        return View(self.kind, self.arg, max(0, min(MAX_PAGE, page)))

    def code(self) -> str:
        """The view as one field of a typed button (``c-health-2``, ``wk-1``, ``x``); a view
        too long for one field (a very long category code) becomes :data:`NOWHERE`, as in
        :func:`with_view`."""
        code = "-".join(str(part) for part in self.parts())
        return code if len(code) <= MAX_VIEW_CODE else NOWHERE

    @classmethod
    def from_code(cls, code: str) -> View | None:
        """The view of :meth:`code`; ``None`` when malformed."""
        return cls.parse(code.split("-"))

    @classmethod
    def parse(cls, parts: list[str]) -> View | None:
        """A view from callback data; ``None`` when malformed (forged or from an old version)."""
        if not parts:
            return None
        kind, *rest = parts
        if kind in _PLAIN and not rest:
            return cls(kind)
        if kind == CATEGORY and len(rest) == 2 and _CODE.fullmatch(rest[0]):
            page = parse_page(rest[1], MAX_PAGE)
            return cls(CATEGORY, rest[0], page) if page is not None else None
        if kind in _PAGED and len(rest) == 1:
            page = parse_page(rest[0], MAX_PAGE)
            return cls(kind, "", page) if page is not None else None
        return None


class OpenList(Press, prefix="br.view"):
    """A list of the service menu (or the menu itself): ``br.view:<view code>``."""

    view: str  # View.code()


class OpenCard(Press, prefix="act.card"):
    """An activity's detail card, opened from a view that Back returns to."""

    activity_id: int
    view: str  # View.code()


def list_data(view: View) -> str:
    return OpenList(view.code()).pack()


def card_data(activity_id: int, view: View | str = NOWHERE) -> str:
    code = view.code() if isinstance(view, View) else view
    return OpenCard(activity_id, code).pack()


def legacy_view_press(data: str) -> Press | None:
    """``br:<view…>`` and ``act:<id>:<view…>``, drawn before the typed families (still on
    cards, reminders and notifications sent earlier), read as the same presses."""
    prefix, *rest = split(data)
    if prefix == "br":
        view = View.parse(rest)
        return OpenList(view.code()) if view is not None else None
    if prefix == "act" and rest:
        raw_id, *view_parts = rest
        activity_id = parse_id(raw_id)
        view = View.parse(view_parts) if view_parts else View(NOWHERE)
        if activity_id is None or view is None:
            return None
        return OpenCard(activity_id, view.code())
    return None


#: What :func:`legacy_view_press` reads.
LEGACY_VIEW_PATTERN = r"^(br|act):"


def with_view(*parts: str | int, view: View) -> str:
    """Callback data ending in a view. Should it not fit Telegram's 64 bytes (a very long
    category code and a huge id), the view is dropped: Back then leads to the service menu."""
    try:
        return callback(*parts, *view.parts())
    except ValueError:
        return callback(*parts, NOWHERE)


@dataclass(frozen=True)
class Names:
    """Localized names of the reference lists, looked up once per screen."""

    categories: dict[str, str]
    skills: dict[str, str]
    areas: dict[str, str]

    @classmethod
    async def load(cls, services: Services, t: Translator) -> Names:
        catalog = services.catalog
        language = t.language.value
        return cls(
            categories={
                item.code: item.name(language)
                for item in await catalog.categories(include_inactive=True)
            },
            skills={
                item.code: item.name(language)
                for item in await catalog.skills(include_inactive=True)
            },
            areas={
                item.code: item.name(language)
                for item in await catalog.areas(include_inactive=True)
            },
        )

    def category(self, code: str) -> str:
        return self.categories.get(code, code)

    def skill_list(self, codes: tuple[str, ...], t: Translator) -> str:
        return t.gettext(", ").join(self.skills.get(code, code) for code in codes)


PEOPLE_SERVED: dict[str, str] = {
    "elderly_children": N_("the elderly and children"),
    "disabled": N_("people with disabilities"),
    "low_income": N_("low-income families"),
    "left_behind_children": N_("left-behind children"),
    "empty_nest_elderly": N_("elderly people living alone"),
    "new_employment": N_("gig and platform workers"),
}

SLOT_NAMES: dict[str, str] = {
    Slot.WEEKDAY_MORNING.name or "": N_("weekday mornings"),
    Slot.WEEKDAY_AFTERNOON.name or "": N_("weekday afternoons"),
    Slot.WEEKDAY_EVENING.name or "": N_("weekday evenings"),
    Slot.WEEKEND_MORNING.name or "": N_("weekend mornings"),
    Slot.WEEKEND_AFTERNOON.name or "": N_("weekend afternoons"),
    Slot.WEEKEND_EVENING.name or "": N_("weekend evenings"),
}

# -------------------------------------------------------------------------------- time and text


def when(t: Translator, activity: Activity) -> str:
    """ "Sat, Dec 5 09:00–11:30" / "12月5日（周六）09:00–11:30"; both dates when it spans days."""
    return t.format_span(activity.starts_at, activity.ends_at)


def clip(text: str, limit: int = 24) -> str:
    """Shorten a title for a button label (phones show about this much)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_when(t: Translator, moment: datetime) -> str:
    return t.format_moment(moment)


def distance_text(t: Translator, km: float) -> str:
    if km < 1:
        return t.gettext("{metres} m").format(metres=int(round(km * 1000, -1)))
    return t.gettext("{km} km").format(km=t.format_number(round(km, 1)))


def spots_text(t: Translator, activity: Activity) -> str:
    if activity.is_full or activity.waitlist_count:
        return t.gettext("full, waitlist open")
    return t.ngettext("{n} spot left", "{n} spots left", activity.spots_left).format(
        n=activity.spots_left
    )


def activity_line(t: Translator, activity: Activity, number: int, extra: str = "") -> str:
    line = t.gettext("{number}. {when} · <b>{title}</b> · {spots}").format(
        number=number,
        when=short_when(t, activity.starts_at),
        title=html(activity.title),
        spots=spots_text(t, activity),
    )
    return f"{line}{extra}"


def reasons_text(t: Translator, match: Match, names: Names) -> str:
    """ "matches: Health, weekend mornings, 1.2 km away"."""
    parts = [_reason(t, reason, names) for reason in match.reasons]
    return t.gettext("matches: {reasons}").format(reasons=t.gettext(", ").join(parts))


def _reason(t: Translator, reason: Reason, names: Names) -> str:
    if reason.kind is ReasonKind.INTEREST:
        return names.category(reason.codes[0])
    if reason.kind is ReasonKind.SKILL:
        return t.gettext("your skill: {skills}").format(skills=names.skill_list(reason.codes, t))
    if reason.kind is ReasonKind.AVAILABILITY:
        return t.gettext(SLOT_NAMES.get(reason.codes[0], reason.codes[0]))
    if reason.kind is ReasonKind.AREA:
        return t.gettext("in {area}").format(area=names.areas.get(reason.codes[0], reason.codes[0]))
    if reason.kind is ReasonKind.DISTANCE and reason.distance_km is not None:
        return t.gettext("{distance} away").format(distance=distance_text(t, reason.distance_km))
    return t.gettext("needs people soon")


# ---------------------------------------------------------------------------------------- card


def deep_link(bot_username: str, activity_id: int) -> str:
    return f"https://t.me/{bot_username}?start={activity_payload(activity_id)}"


def card_text(
    t: Translator,
    activity: Activity,
    viewer: Viewer,
    names: Names,
    now: datetime,
    *,
    notice: str | None = None,
) -> str:
    lines: list[str] = []
    if notice:
        lines += [notice, ""]
    lines.append(f"<b>{html(activity.title)}</b>")
    if activity.status is ActivityStatus.CANCELLED:
        lines.append(t.gettext("❌ <b>Cancelled by the organizer.</b>"))
        if activity.cancel_reason:
            lines.append(html(shown_cancel_reason(activity.cancel_reason, t.gettext)))
    lines.append(
        t.gettext("🏷 {category} · 🏢 {organization}").format(
            category=html(names.category(activity.category_code)),
            organization=html(activity.organization_name),
        )
    )
    lines.append(t.gettext("🕘 {when}").format(when=when(t, activity)))
    place = html(activity.place)
    if activity.area_code:
        place += f" ({html(names.areas.get(activity.area_code, activity.area_code))})"
    lines.append(t.gettext("📍 {place}").format(place=place))
    lines.append(
        t.gettext("👥 {taken} of {capacity} taken · {waiting} waiting").format(
            taken=activity.taken, capacity=activity.capacity, waiting=activity.waitlist_count
        )
    )
    if activity.people_served:
        served = t.gettext(", ").join(
            t.gettext(PEOPLE_SERVED[code.value]) for code in activity.people_served
        )
        lines.append(t.gettext("🤝 Serving: {people}").format(people=served))
    requirements: list[str] = []
    if activity.required_skills:
        requirements.append(
            t.gettext("skills: {skills}").format(
                skills=html(names.skill_list(activity.required_skills, t))
            )
        )
    if activity.training_required:
        requirements.append(t.gettext("training before service"))
    if activity.adults_only:
        requirements.append(t.gettext("adults (18+) only"))
    if requirements:
        lines.append(
            t.gettext("⚠️ Requirements: {list}").format(list=t.gettext("; ").join(requirements))
        )
    lines += training_lines(t, activity)
    if activity.signup_deadline is not None and activity.signup_deadline < activity.starts_at:
        lines.append(
            t.gettext("⏰ Sign up by {deadline}").format(
                deadline=short_when(t, activity.signup_deadline)
            )
        )
    if activity.description:
        lines += ["", html(activity.description)]
    status = _viewer_status(t, activity, viewer, names, now)
    if status:
        lines += ["", status]
    return "\n".join(lines)


def training_lines(t: Translator, activity: Activity) -> list[str]:
    """What the card says of trainings (Art. 8) and of recording (Art. 19)."""
    lines: list[str] = []
    if activity.requires_qualification is not None:
        lines.append(
            t.gettext("🎓 Requires the training «{name}» first").format(
                name=html(activity.requires_qualification.name)
            )
        )
    if activity.grants_qualification is not None:
        lines.append(
            t.gettext("📜 Completing this training grants «{name}»").format(
                name=html(activity.grants_qualification.name)
            )
        )
    if not activity.is_volunteering:
        lines.append(t.gettext("ℹ️ Not recorded as volunteer service"))
    return lines


def next_session_text(t: Translator, session: Activity | None) -> str:
    """Where a volunteer without the required training can get it."""
    if session is None:
        return t.gettext("No session of this training is scheduled yet; ask the organizer.")
    return t.gettext("Its next session: {title}, {when}.").format(
        title=html(session.title), when=when(t, session)
    )


def next_session_button(t: Translator, session: Activity) -> InlineKeyboardButton:
    """Opens the card of the training's next session."""
    return InlineKeyboardButton(
        t.gettext("📚 Next training: {when}").format(when=short_when(t, session.starts_at)),
        callback_data=card_data(session.activity_id),
    )


def _viewer_status(
    t: Translator, activity: Activity, viewer: Viewer, names: Names, now: datetime
) -> str | None:
    signup = viewer.active_signup
    if signup is not None:
        if signup.status is SignupStatus.CONFIRMED:
            return t.gettext("✅ <b>You are signed up.</b>")
        if signup.status is SignupStatus.WAITLISTED:
            return t.gettext("⏳ <b>You are number {position} on the waitlist.</b>").format(
                position=viewer.position or 1
            )
        if signup.offer_expires_at is not None:
            return t.gettext(
                "🎁 <b>A spot is held for you until {deadline}.</b> Accept or decline below."
            ).format(deadline=short_when(t, signup.offer_expires_at))
    if activity.status is not ActivityStatus.PUBLISHED:
        return None
    if now >= activity.starts_at:
        return t.gettext("This activity has already started.")
    if now >= activity.signup_closes_at:
        return t.gettext("Sign-up for this activity has closed.")
    if viewer.profile is None:
        return t.gettext("Register as a volunteer to sign up (it takes a couple of minutes).")
    if viewer.missing_skills:
        return t.gettext(
            "🚫 You cannot join: it needs volunteers with {skills}. If you have these skills, "
            "add them in /profile."
        ).format(skills=html(names.skill_list(viewer.missing_skills, t)))
    if viewer.missing_qualification is not None:
        refusal = t.gettext("🚫 You cannot join yet: it needs the training «{name}».").format(
            name=html(viewer.missing_qualification.name)
        )
        return f"{refusal} {next_session_text(t, viewer.next_training)}"
    if viewer.too_young:
        return t.gettext("🚫 You cannot join: this activity is for adults (18+) only.")
    if viewer.paused:
        return t.gettext("⏸ Your volunteering is paused. Resume it to sign up.")
    return None


def card_keyboard(
    t: Translator,
    activity: Activity,
    viewer: Viewer,
    view: View,
    *,
    bot_username: str,
    now: datetime,
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    aid = activity.activity_id
    signup = viewer.active_signup
    published = activity.status is ActivityStatus.PUBLISHED
    code = view.code()
    if signup is not None and published and now < activity.starts_at:
        if signup.status is SignupStatus.OFFERED:
            rows.append(
                [
                    OfferAccept(signup.signup_id).button(t.gettext("✅ Accept the spot")),
                    OfferDecline(signup.signup_id).button(t.gettext("🙅 Decline")),
                ]
            )
        else:
            label = (
                t.gettext("❌ Cancel my sign-up")
                if signup.status is SignupStatus.CONFIRMED
                else t.gettext("❌ Leave the waitlist")
            )
            rows.append([SignupCancelAsk(aid, code).button(label)])
    elif signup is None and activity.is_open_for_signup(now):
        if viewer.profile is None:
            rows.append(
                [
                    InlineKeyboardButton(
                        t.gettext("📝 Register to sign up"),
                        callback_data=RegisterFor(aid).pack(),
                    )
                ]
            )
        elif viewer.missing_skills or viewer.too_young or viewer.missing_qualification:
            pass  # the status line says why; nothing to press (but the training, below)
        elif viewer.paused:
            # Signing up would be refused: offer what makes it possible (#13 item 10).
            rows.append([SignupResume(aid, code).button(t.gettext("▶️ Resume volunteering"))])
        elif activity.is_full or activity.waitlist_count:
            rows.append([SignupWait(aid, code).button(t.gettext("⏳ Join the waitlist"))])
        else:
            rows.append([SignupJoin(aid, code).button(t.gettext("✋ Sign up"))])
    if viewer.next_training is not None and viewer.next_training.activity_id != aid:
        rows.append([next_session_button(t, viewer.next_training)])
    link = deep_link(bot_username, aid)
    tools = [
        SignupCalendar(aid).button(t.gettext("📅 Add to calendar")),
        InlineKeyboardButton(
            t.gettext("📤 Share"),
            url=f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(activity.title)}",
        ),
    ]
    rows.append(tools)
    if activity.has_location:
        rows.append([SignupMap(aid).button(t.gettext("🗺 Show on map"))])
    rows.append(
        [
            InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=list_data(view)),
            InlineKeyboardButton(
                t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
            ),
        ]
    )
    return InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------------- refusals

REFUSALS: dict[Refusal, str] = {
    Refusal.NO_PROFILE: N_("Please register as a volunteer first; it takes a couple of minutes."),
    Refusal.PAUSED: N_("Your volunteering is paused. Resume it in /profile to sign up."),
    Refusal.NOT_FOUND: N_("This activity does not exist or is no longer published."),
    Refusal.CANCELLED: N_("This activity was cancelled by its organizer."),
    Refusal.STARTED: N_("This activity has already started."),
    Refusal.CLOSED: N_("Sign-up for this activity has closed."),
    Refusal.MISSING_SKILLS: N_("This activity needs volunteers with these skills: {skills}."),
    Refusal.ADULTS_ONLY: N_("This activity is for adults (18+) only."),
    Refusal.CLASH: N_("You are already signed up for “{title}” at that time ({when})."),
    Refusal.FULL: N_(
        "Sorry, this activity is full. You can join the waitlist: if a spot frees up, "
        "you will be offered it."
    ),
    Refusal.NOT_SIGNED_UP: N_("You are not signed up for this activity."),
    Refusal.CANCEL_CUTOFF: N_(
        "The activity starts in less than {hours} hours, so the sign-up can no longer be "
        "cancelled here. Please tell the organizer directly."
    ),
    Refusal.OFFER_GONE: N_("This offer is no longer open."),
    Refusal.NOT_YOURS: N_("This button is no longer valid."),
    Refusal.NO_QUALIFICATION: N_("This activity needs the training «{name}» first. {next_session}"),
    Refusal.PROMISE_NEEDED: N_("Please confirm that you will come."),
}


def refusal_text(
    t: Translator, error: SignupRefused, names: Names, *, cutoff_hours: float = 2
) -> str:
    text = t.gettext(REFUSALS[error.reason])
    if error.reason is Refusal.MISSING_SKILLS:
        return text.format(skills=html(names.skill_list(error.missing, t)))
    if error.reason is Refusal.CLASH:
        other = error.other  # always set by the service; blank rather than a raw placeholder
        return text.format(
            title=html(other.title) if other else "", when=when(t, other) if other else ""
        )
    if error.reason is Refusal.CANCEL_CUTOFF:
        return text.format(hours=t.format_number(cutoff_hours))
    if error.reason is Refusal.NO_QUALIFICATION:
        name = error.qualification.name if error.qualification else ""
        return text.format(name=html(name), next_session=next_session_text(t, error.next_session))
    return text


def refusal_toast(t: Translator, error: SignupRefused) -> str:
    """A short answer for the button press (Telegram cuts callback answers at 200 chars)."""
    if error.reason is Refusal.FULL:
        return t.gettext("Sorry, it is full.")
    return t.gettext("Not possible — see the message.")
