"""Monthly honours (``/honours``, or 🏅 on ``/profile``): the volunteers with the most confirmed
hours in a month, per district and per organization, among those who opted in.

```mermaid
flowchart LR
    C[/honours · hn.home · hn.area:CODE:YYYYMM/] -->|◀ ▶ hn.area / hn.org with another month| C
    C -->|hn.org:ORG:YYYYMM (an organization I served with)| O[that organization's month]
    C -->|hn.me: switch my listing on or off| C
```

Nobody is listed without having switched it on (default off); the screen says how to.
Presses carry only public things (a district code, an organization id, a month), so a forged
one can at most show another public list.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.honours import Honoured, Month
from bot.domain.hours import format_hours
from bot.i18n import Translator
from handlers.activity_view import clip
from handlers.callbacks import Press
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, show

TEXTS = RefusalTexts()
MEDALS = ("🥇", "🥈", "🥉")


class HnArea(Press, prefix="hn.area"):
    area: str
    month: int  # YYYYMM


class HnOrg(Press, prefix="hn.org"):
    organization: int
    month: int  # YYYYMM


class HnHome(Press, prefix="hn.home"):
    """The honours of this month for the user's own district."""


class HnMe(Press, prefix="hn.me"):
    """Switch the user's own listing on or off."""


def _ranking(t: Translator, people: list[Honoured]) -> list[str]:
    if not people:
        return [t.gettext("Nobody is listed for this month yet.")]
    return [
        f"{MEDALS[index] if index < len(MEDALS) else f'{index + 1}.'} "
        + t.gettext("{name} · {hours} h").format(
            name=html(person.name), hours=format_hours(person.minutes)
        )
        for index, person in enumerate(people)
    ]


async def show_honours(
    update: Update,
    context: ZyContext,
    *,
    area: str | None = None,
    organization: int | None = None,
    month: Month | None = None,
    notice: str | None = None,
) -> None:
    t = context.t
    services = context.services
    month = month or services.honours.this_month()
    profile = await services.registration.profile(context.user.telegram_id)
    if area is None and organization is None and profile is not None:
        area = profile.area_code
    lines = [notice, ""] if notice else []
    lines.append(
        t.gettext("🏅 <b>Honours of {month}</b>").format(
            month=t.format_month(month.year, month.month)
        )
    )
    rows: list[list[InlineKeyboardButton]] = []
    if organization is not None:
        name = await services.honours.organization_name(organization)
        if name is None:
            await answer(update, t.gettext(GENERIC), alert=True)
            return
        lines.append(t.gettext("Most hours with {organization}:").format(organization=html(name)))
        lines += _ranking(t, await services.honours.of_organization(organization, month))
        paging = [
            HnOrg(organization, month.previous().packed).button(t.gettext("◀️ Previous")),
            HnOrg(organization, month.next().packed).button(t.gettext("Next ▶️")),
        ]
    elif area is not None:
        item = await services.catalog.area(area)
        if item is None:
            await answer(update, t.gettext(GENERIC), alert=True)
            return
        lines.append(
            t.gettext("Most hours among volunteers of {area}:").format(
                area=html(item.name(t.language.value))
            )
        )
        lines += _ranking(t, await services.honours.of_area(area, month))
        paging = [
            HnArea(area, month.previous().packed).button(t.gettext("◀️ Previous")),
            HnArea(area, month.next().packed).button(t.gettext("Next ▶️")),
        ]
    else:
        lines.append(t.gettext("Choose a district."))
        areas = await services.catalog.areas()
        buttons = [HnArea(a.code, month.packed).button(a.name(t.language.value)) for a in areas]
        rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        paging = []
    if paging:
        rows.append(paging)
    if profile is not None:
        scopes = []
        if profile.area_code is not None and profile.area_code != area:
            scopes.append(
                HnArea(profile.area_code, month.packed).button(t.gettext("📍 My district"))
            )
        for organization_id, name in await services.honours.organizations_served(
            profile.volunteer_id
        ):
            if organization_id != organization:
                scopes.append(HnOrg(organization_id, month.packed).button(f"🏢 {clip(name)}"))
        rows += [scopes[i : i + 2] for i in range(0, len(scopes), 2)]
        listed = await services.honours.opted_in(profile.volunteer_id)
        lines += [
            "",
            t.gettext("✅ You are listed when you are among the top.")
            if listed
            else t.gettext("You are not listed: only volunteers who switch it on appear here."),
        ]
        rows.append(
            [HnMe().button(t.gettext("🚫 Do not list me") if listed else t.gettext("✅ List me"))]
        )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_command(update: Update, context: ZyContext) -> None:
    """``/honours``."""
    await show_honours(update, context)


async def on_home(update: Update, context: ZyContext, _press: HnHome) -> None:
    await answer(update)
    await show_honours(update, context)


async def on_area(update: Update, context: ZyContext, press: HnArea) -> None:
    month = Month.unpack(press.month)
    if month is None:
        await answer(update, context.t.gettext(GENERIC), alert=True)
        return
    await answer(update)
    await show_honours(update, context, area=press.area, month=month)


async def on_org(update: Update, context: ZyContext, press: HnOrg) -> None:
    month = Month.unpack(press.month)
    if month is None:
        await answer(update, context.t.gettext(GENERIC), alert=True)
        return
    await answer(update)
    await show_honours(update, context, organization=press.organization, month=month)


async def on_me(update: Update, context: ZyContext, _press: HnMe) -> None:
    t = context.t
    listed = await context.services.honours.toggle(context.user.telegram_id)
    if listed is None:
        await answer(update, t.gettext(GENERIC), alert=True)
        return
    await answer(update)
    await show_honours(
        update,
        context,
        notice=t.gettext("✅ You will be listed in the honours.")
        if listed
        else t.gettext("🚫 You are no longer listed in the honours."),
    )


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {HnHome: on_home, HnArea: on_area, HnOrg: on_org, HnMe: on_me}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("honours", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
