"""The service menu (菜单式服务): categories, lists, "For you", "Near me", search, the card.

```mermaid
flowchart LR
    menu["/menu · menu:browse"] --> home[Service menu]
    home -->|br:c:code:page| list[Category page]
    home -->|br:wk / br:we| window[This week / weekend]
    home -->|br:fy| foryou[For you, with reasons]
    home -->|br:nr| ask[Share your location] -->|location| near[Near me, by distance]
    search["/search words"] --> found[Search results] -->|br:sr:page| found
    bare["/search"] --> words[Type the words] -->|text| found
    list & window & foryou & near & found -->|act:id:view| card[Activity card]
    card -->|br:view| list
    link["/start act_42"] --> card
```

A bare ``/search`` and "Near me" take the user's typed input (flows ``search`` and ``near_me``,
:mod:`handlers.flows`), so a form left half-way does not take the words or the pin. The last
search's words and a location shared within two hours are stored (``browse_sessions``), so any
bot process can turn the page.

Every callback is parsed strictly: a malformed or forged one gets the "no longer valid" notice
and the service menu, never an exception.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.activities import Activity, ActivityStatus, Page
from bot.domain.flows import FlowOwner
from bot.domain.geo import Point, bounding_box, distance_km
from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import Translator
from bot.services.signups import Refusal, SignupRefused
from handlers.activity_view import (
    CATEGORIES,
    CATEGORY,
    FOR_YOU,
    LEGACY_VIEW_PATTERN,
    NEAR,
    SEARCH,
    THIS_WEEK,
    WEEKEND,
    Names,
    OpenCard,
    OpenList,
    View,
    activity_line,
    card_data,
    card_keyboard,
    card_text,
    clip,
    distance_text,
    legacy_view_press,
    list_data,
    reasons_text,
)
from handlers.callbacks import MenuItem, MenuOpen, button_rows
from handlers.flows import Flow, release, take
from handlers.press_table import press_handlers, without_press
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

PAGE_SIZE = 6
FOR_YOU_LIMIT = 8
NEAR_LIMIT = 8
NEAR_RADIUS_KM = 20.0
MAX_SEARCH_LENGTH = 60


def _home_row(t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            t.gettext("⬅️ Service menu"), callback_data=list_data(View(CATEGORIES))
        ),
        InlineKeyboardButton(
            t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
        ),
    ]


# --------------------------------------------------------------------------------- the menu


async def menu_home(update: Update, context: ZyContext) -> None:
    """``/menu`` and the main menu's 🔍 entry."""
    await answer(update)
    await render_menu(update, context)


async def render_menu(update: Update, context: ZyContext, *, notice: str | None = None) -> None:
    """The service menu's first screen. Screen functions never answer the press: the handler
    that received it does, once (Telegram refuses a second answer)."""
    t = context.t
    services = context.services
    counts = await services.activities.category_counts(services.clock())
    categories = await services.catalog.categories()
    total = sum(counts.values())
    lines = []
    if notice:
        lines += [notice, ""]
    lines.append(t.gettext("<b>🔍 Service menu</b>"))
    if total:
        lines.append(
            t.ngettext(
                "{n} activity is open. Choose a kind of service, or a quick filter.",
                "{n} activities are open. Choose a kind of service, or a quick filter.",
                total,
            ).format(n=total)
        )
    else:
        lines.append(
            t.gettext(
                "No activities are open right now. Organizers publish new ones often; "
                "please look again soon."
            )
        )
    lines.append(t.gettext("Search by words with /search, for example: /search 义诊"))
    quick = [
        InlineKeyboardButton(t.gettext("⭐ For you"), callback_data=list_data(View(FOR_YOU))),
        InlineKeyboardButton(t.gettext("📍 Near me"), callback_data=list_data(View(NEAR))),
        InlineKeyboardButton(t.gettext("📅 This week"), callback_data=list_data(View(THIS_WEEK))),
        InlineKeyboardButton(t.gettext("🎉 Weekend"), callback_data=list_data(View(WEEKEND))),
    ]
    category_buttons = [
        InlineKeyboardButton(
            f"{item.name(t.language.value)} ({counts[item.code]})",
            callback_data=list_data(View(CATEGORY, item.code)),
        )
        for item in categories
        if counts.get(item.code)
    ]
    rows = [*button_rows(quick, 2), *button_rows(category_buttons, 2)]
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
            )
        ]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_browse(update: Update, context: ZyContext, press: OpenList) -> None:
    """A list of the service menu (or the menu itself)."""
    view = View.from_code(press.view)
    if view is None:
        await _invalid(update, context)
        return
    await answer(update)
    await show_view(update, context, view)


async def _invalid(update: Update, context: ZyContext) -> None:
    """Forged, or drawn by an older version of the bot: say so and show the service menu."""
    await answer(update, context.t.gettext("This button is no longer valid."))
    await render_menu(update, context)


async def show_view(update: Update, context: ZyContext, view: View) -> None:
    if view.kind == CATEGORY:
        await _category_page(update, context, view)
    elif view.kind in (THIS_WEEK, WEEKEND):
        await _window_page(update, context, view)
    elif view.kind == FOR_YOU:
        await _for_you(update, context)
    elif view.kind == NEAR:
        await _near(update, context, view)
    elif view.kind == SEARCH:
        await _search_page(update, context, view)
    elif view.kind in ("my", "mp"):
        from handlers.my import show_my

        await show_my(update, context, past=view.kind == "mp")
    else:
        await render_menu(update, context)


async def _list_screen(
    update: Update,
    context: ZyContext,
    *,
    title: str,
    page: Page,
    view: View,
    empty: str,
    extras: dict[int, str] | None = None,
) -> None:
    t = context.t
    lines = [title, ""]
    if not page.items:
        lines.append(empty)
    open_buttons: list[InlineKeyboardButton] = []
    first = page.page * page.page_size + 1
    for offset, activity in enumerate(page.items):
        number = first + offset
        extra = (extras or {}).get(activity.activity_id, "")
        lines.append(activity_line(t, activity, number, extra))
        open_buttons.append(_open_button(activity, number, view))
    if page.pages > 1:
        lines += [
            "",
            t.gettext("Page {page} of {pages}").format(page=page.page + 1, pages=page.pages),
        ]
    rows = button_rows(open_buttons, 3)
    paging: list[InlineKeyboardButton] = []
    if page.has_previous:
        paging.append(
            InlineKeyboardButton(
                t.gettext("◀️ Previous"),
                callback_data=list_data(view.at_page(page.page - 1)),
            )
        )
    if page.has_next:
        paging.append(
            InlineKeyboardButton(
                t.gettext("Next ▶️"),
                callback_data=list_data(view.at_page(page.page + 1)),
            )
        )
    if paging:
        rows.append(paging)
    rows.append(_home_row(t))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


def _open_button(activity: Activity, number: int, view: View) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        f"{number}. {clip(activity.title)}",
        callback_data=card_data(activity.activity_id, view),
    )


async def _category_page(update: Update, context: ZyContext, view: View) -> None:
    services = context.services
    t = context.t
    category = await services.catalog.category(view.arg)
    if category is None:  # retired, or forged
        await render_menu(update, context, notice=t.gettext("This button is no longer valid."))
        return
    page = await services.activities.upcoming(
        services.clock(), category=view.arg, page=view.page, page_size=PAGE_SIZE
    )
    await _list_screen(
        update,
        context,
        title=t.gettext("<b>{category}</b> — open activities").format(
            category=html(category.name(t.language.value))
        ),
        page=page,
        view=view.at_page(page.page),
        empty=t.gettext("No open activities of this kind right now."),
    )


def week_window(now: datetime, t: Translator) -> tuple[datetime, datetime]:
    """From now to the end of this Sunday, local time."""
    local = now.astimezone(t.timezone)
    end = (local + timedelta(days=7 - local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return now, end


def weekend_window(now: datetime, t: Translator) -> tuple[datetime, datetime]:
    """The coming Saturday and Sunday (the rest of it when it is already the weekend)."""
    local = now.astimezone(t.timezone)
    monday_next = (local + timedelta(days=7 - local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    saturday = monday_next - timedelta(days=2)
    return max(now, saturday), monday_next


async def _window_page(update: Update, context: ZyContext, view: View) -> None:
    services = context.services
    t = context.t
    now = services.clock()
    start, end = (week_window if view.kind == THIS_WEEK else weekend_window)(now, t)
    page = await services.activities.upcoming(
        now, starts_from=start, starts_before=end, page=view.page, page_size=PAGE_SIZE
    )
    title = (
        t.gettext("<b>📅 This week</b>")
        if view.kind == THIS_WEEK
        else t.gettext("<b>🎉 This weekend</b>")
    )
    await _list_screen(
        update,
        context,
        title=title,
        page=page,
        view=view.at_page(page.page),
        empty=t.gettext("Nothing is planned for these days yet."),
    )


async def _for_you(update: Update, context: ZyContext) -> None:
    t = context.t
    services = context.services
    try:
        matches = await services.signups.for_you(
            context.user.telegram_id,
            location=await context.services.browsing.recent_location(context.user.telegram_id),
            limit=FOR_YOU_LIMIT,
        )
    except SignupRefused as refusal:
        if refusal.reason is not Refusal.NO_PROFILE:
            raise
        await show(
            update,
            t.gettext(
                "“For you” suggests activities that fit your interests, skills and free time. "
                "Register first (a couple of minutes), then come back here."
            ),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.gettext("📝 Register"),
                            callback_data=MenuOpen(MenuItem.PROFILE).pack(),
                        )
                    ],
                    _home_row(t),
                ]
            ),
        )
        return
    names = await Names.load(services, t)
    view = View(FOR_YOU)
    extras = {
        match.activity.activity_id: "\n    " + html(reasons_text(t, match, names))
        for match in matches
    }
    page = Page(
        items=tuple(m.activity for m in matches),
        page=0,
        page_size=FOR_YOU_LIMIT,
        total=len(matches),
    )
    await _list_screen(
        update,
        context,
        title=t.gettext("<b>⭐ For you</b> — best matches first"),
        page=page,
        view=view,
        empty=t.gettext(
            "Nothing matches your profile right now. Browse all kinds of service, or add "
            "interests and free times in /profile."
        ),
        extras=extras,
    )


async def _near(update: Update, context: ZyContext, view: View) -> None:
    t = context.t
    location = await context.services.browsing.recent_location(context.user.telegram_id)
    if location is None:
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(t.gettext("📍 Share my location"), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        # The pin that comes next is for this search, not for a form left half-way.
        await take(context, NEAR_ME_FLOW, "location")
        await send(
            update,
            t.gettext(
                "To find activities near you, tap “📍 Share my location” below. It is used only "
                "for this search and kept for two hours."
            ),
            keyboard,
        )
        return
    services = context.services
    now = services.clock()
    nearby = await services.activities.upcoming_in_box(
        now, bounding_box(location, NEAR_RADIUS_KM), limit=500
    )
    with_distance = sorted(
        (
            (distance_km(location, Point(a.latitude, a.longitude)), a)  # type: ignore[arg-type]
            for a in nearby
        ),
        key=lambda pair: (pair[0], pair[1].starts_at),
    )
    within = [(d, a) for d, a in with_distance if d <= NEAR_RADIUS_KM]
    start = view.page * NEAR_LIMIT
    chunk = within[start : start + NEAR_LIMIT]
    page = Page(
        items=tuple(a for _, a in chunk), page=view.page, page_size=NEAR_LIMIT, total=len(within)
    )
    extras = {a.activity_id: f" · {distance_text(t, d)}" for d, a in chunk}
    await _list_screen(
        update,
        context,
        title=t.gettext("<b>📍 Near you</b> — nearest first"),
        page=page,
        view=view,
        empty=t.gettext("No open activities with a map pin within {km} km of you.").format(
            km=int(NEAR_RADIUS_KM)
        ),
        extras=extras,
    )


async def on_location(update: Update, context: ZyContext) -> None:
    """A shared location (no form waiting for one): remember it and list what is near."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    try:
        point = Point(message.location.latitude, message.location.longitude)
    except ValueError:  # outside the globe: forged
        await send(
            update,
            context.t.gettext("Sorry, I did not understand that. Tap a button or send /help."),
        )
        return
    await context.services.browsing.remember_location(context.user.telegram_id, point)
    await send(
        update, context.t.gettext("📍 Thanks, here is what is near you."), ReplyKeyboardRemove()
    )
    await _near(update, context, View(NEAR))


# -------------------------------------------------------------------------------- search


def search_words(text: str) -> list[str]:
    """Validated search words (raises :class:`InvalidInput`)."""
    cleaned = clean_free_text(text, min_length=1, max_length=MAX_SEARCH_LENGTH)
    return [word for word in cleaned.split() if word][:5]


async def search_command(update: Update, context: ZyContext) -> object:
    """``/search words``: search at once (a one-off command, not a flow: a form left half-way
    still reads the next typed answer)."""
    return await search_for(update, context, " ".join(context.args or []))


async def ask_words(update: Update, context: ZyContext) -> object:
    """A bare ``/search``: the next typed text is the words (not an answer to a form)."""
    if context.args:
        return await search_command(update, context)
    await take(context, SEARCH_FLOW, "words")
    await send(
        update,
        context.t.gettext(
            "Type the words to look for in the title, place or organizer, for example "
            "敬老院 (or send /search followed by words). /cancel to stop."
        ),
    )
    return None


async def on_search_words(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    if await search_for(update, context, message.text if message and message.text else ""):
        await release(context, SEARCH_FLOW)
    return None


async def search_for(update: Update, context: ZyContext, text: str) -> bool:
    """Search and show the first page; ``False`` (and the reason said) if the words are bad."""
    try:
        words = search_words(text)
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return False
    await context.services.browsing.remember_search(context.user.telegram_id, words)
    await _search_page(update, context, View(SEARCH))
    return True


async def cancel_search(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    await send(update, context.t.gettext("OK, no search."))
    return None


async def on_near_me_location(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    await release(context, NEAR_ME_FLOW)
    await on_location(update, context)
    return None


async def cancel_near_me(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    await send(update, context.t.gettext("OK, no location."), ReplyKeyboardRemove())
    return None


SEARCH_FLOW = "search"
NEAR_ME_FLOW = "near_me"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(SEARCH_FLOW, on_text=on_search_words, on_cancel=cancel_search),
    # Only a pin is for "Near me": typed words meanwhile get the usual answers (a greeting,
    # a search …) and the pin that comes later still finds what is near.
    Flow(NEAR_ME_FLOW, on_location=on_near_me_location, on_cancel=cancel_near_me),
]


async def _search_page(update: Update, context: ZyContext, view: View) -> None:
    t = context.t
    words = await context.services.browsing.last_search(context.user.telegram_id)
    if not words:
        await send(update, t.gettext("Send /search followed by words, for example: /search 义诊"))
        return
    services = context.services
    page = await services.activities.search(
        services.clock(), [str(word) for word in words], page=view.page, page_size=PAGE_SIZE
    )
    await _list_screen(
        update,
        context,
        title=t.gettext("<b>🔎 Results for “{words}”</b>").format(words=html(" ".join(words))),
        page=page,
        view=view.at_page(page.page),
        empty=t.gettext("No open activities match these words. Try fewer or other words."),
    )


# ---------------------------------------------------------------------------------- the card


async def on_card(update: Update, context: ZyContext, press: OpenCard) -> None:
    """An activity's detail card."""
    view = View.from_code(press.view)
    if view is None:
        await _invalid(update, context)
        return
    await answer(update)
    await show_card(update, context, press.activity_id, view)


async def show_card(
    update: Update,
    context: ZyContext,
    activity_id: int,
    view: View,
    *,
    notice: str | None = None,
    new_message: bool = False,
    names: Names | None = None,
    activity: Activity | None = None,
) -> None:
    """The card of ``activity_id``; ``activity`` when the caller has just read it (a sign-up's
    result, read in its transaction) saves reading it again."""
    services = context.services
    t = context.t
    if activity is None or activity.activity_id != activity_id:
        activity = await services.activities.get(activity_id)
    if activity is None or activity.status is ActivityStatus.DRAFT:
        await render_menu(
            update,
            context,
            notice=t.gettext("This activity does not exist or is no longer published."),
        )
        return
    viewer = await services.signups.viewer(context.user.telegram_id, activity)
    names = names or await Names.load(services, t)
    now = services.clock()
    text = card_text(t, activity, viewer, names, now, notice=notice)
    markup = card_keyboard(t, activity, viewer, view, bot_username=context.bot.username, now=now)
    if new_message:
        await send(update, text, markup)
    else:
        await show(update, text, markup)


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("menu", menu_home))
    application.add_handler(CommandHandler("search", ask_words))
    for handler, group in press_handlers(
        {
            MenuOpen(MenuItem.BROWSE): without_press(menu_home),
            OpenList: on_browse,
            OpenCard: on_card,
        },
        texts=RefusalTexts(),
        invalid=_invalid,
        legacy=(LEGACY_VIEW_PATTERN, legacy_view_press),
    ):
        application.add_handler(handler, group)
