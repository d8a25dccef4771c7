"""After an activity the organizer records what the statistics table needs besides the hours:
the people served by kind, the number of volunteer organizations, the money and materials (元)
and the media reports (kind, link, reads); and the reminders to do so.

```mermaid
flowchart LR
    card[Management card] -->|fig id| figures[Figures of the activity]
    due[REPORT_FIGURES_DUE / _MISSING] -->|fig id| figures
    figures -->|fig.pp| kinds[Kinds of people served]
    kinds -->|fig.pk id kind: take| people((flow figures: people))
    figures -->|fig.fd: take| funds((flow figures: funds))
    figures -->|fig.org: take| orgs((flow figures: orgs))
    figures -->|fig.md| media[Kind of report]
    media -->|fig.mk id paper: take| paper((flow figures: paper))
    media -->|fig.mk id web/wechat…: take| link((flow figures: link))
    link -->|valid| reads((flow figures: reads))
    reads -->|a number, or fig.nr: unknown| figures
    people & funds & orgs & paper -->|valid: release| figures
    figures -->|fig.mdel id media| figures
    figures -->|fig.ok: nothing more to record| figures
```

Every press and every typed answer goes through :class:`~bot.services.reports.ReportService`,
which re-checks that the user acts for the activity's organization (a forged ``fig.`` press
from anyone else is refused and changes nothing) and that the activity has started. Typed
numbers are bounded and read in both scripts (``1,200``, full-width digits, ``1200元``); a link
must be http(s). While a number or a link is being typed the flow ``figures`` owns the user's
input (taken before the question is shown).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext
from bot.delivery import Rendered
from bot.domain.activities import Activity, PeopleServed
from bot.domain.flows import FlowOwner, FlowState
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.reports import (
    MAX_ORGANIZATIONS,
    MAX_READS,
    MAX_SERVED,
    PEOPLE_CODES,
    ActivityFigures,
    MediaKind,
    parse_count,
    parse_link,
    parse_yuan,
    yuan_text,
)
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.reports import ReportsRefusal
from handlers.activity_view import PEOPLE_SERVED, clip
from handlers.callbacks import button_rows
from handlers.flows import Flow, owned_by, release, take
from handlers.manage_buttons import ManageCard
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show
from handlers.report_buttons import (
    FiguresDone,
    FiguresFunds,
    FiguresMedia,
    FiguresMediaDelete,
    FiguresMediaKind,
    FiguresOrganizations,
    FiguresPeople,
    FiguresPeopleKind,
    FiguresReadsUnknown,
    FiguresShow,
)
from handlers.staff import STAFF_REFUSALS, refuse_staff

FLOW = "figures"
MEDIA_CODES = frozenset(kind.value for kind in MediaKind)
MAX_REMINDER_BUTTONS = 5

REPORT_REFUSALS: dict[StrEnum, str] = {
    ReportsRefusal.NOT_STARTED: N_(
        "Figures can be recorded once the activity has started ({when})."
    ),
    ReportsRefusal.CANCELLED: N_("This activity was cancelled."),
    ReportsRefusal.TOO_MANY_MEDIA: N_("This activity already has the most media reports allowed."),
    ReportsRefusal.NO_MEDIA: N_("That report was already removed."),
    ReportsRefusal.NO_PERIOD: N_("There is no campaign period now or in the past year."),
}
TEXTS = RefusalTexts(STAFF_REFUSALS, REPORT_REFUSALS)

MEDIA_KINDS = {
    MediaKind.PAPER: N_("📰 Newspaper"),
    MediaKind.WEB: N_("🌐 Website"),
    MediaKind.WECHAT: N_("💬 WeChat"),
    MediaKind.VIDEO: N_("🎬 Video"),
    MediaKind.OTHER: N_("🔗 Other online"),
}


def media_line(
    t: Translator,
    number: int,
    kind: MediaKind,
    title: str | None,
    url: str | None,
    reads: int | None,
) -> str:
    label = t.gettext(MEDIA_KINDS[kind])
    parts = [f"{number}. {label}"]
    if title:
        parts.append(html(title))
    if url:
        parts.append(html(url))
    if reads is not None:
        parts.append(t.ngettext("{n} read", "{n} reads", reads).format(n=t.format_number(reads)))
    return " · ".join(parts)


def figures_text(t: Translator, activity: Activity, figures: ActivityFigures) -> str:
    lines = [
        t.gettext("📊 <b>Figures</b> · {title}").format(title=html(activity.title)),
        t.gettext(
            "For the statistics table. Attendances and hours come from the confirmed service "
            "records; please add what only you know."
        ),
        "",
    ]
    if figures.served:
        names = {kind: t.gettext(PEOPLE_SERVED[kind.value]) for kind in figures.served}
        served = " · ".join(
            f"{names[kind]} {t.format_number(count)}" for kind, count in figures.served.items()
        )
    else:
        served = t.gettext("none recorded")
    lines.append(t.gettext("👥 People served: {served}").format(served=served))
    lines.append(
        t.gettext("🏢 Volunteer organizations taking part: {n}").format(n=figures.organizations)
    )
    lines.append(
        t.gettext("💰 Funds and materials: {amount} yuan").format(
            amount=yuan_text(figures.funds_fen)
        )
    )
    lines.append(t.gettext("📰 Media reports: {n}").format(n=len(figures.media)))
    for number, media in enumerate(figures.media, start=1):
        lines.append(media_line(t, number, media.kind, media.title, media.url, media.reads))
    lines.append("")
    lines.append(
        t.gettext("✅ Recorded.")
        if figures.recorded
        else t.gettext("⚠️ Not recorded yet: the statistics table shows this activity as missing.")
    )
    return "\n".join(lines)


def figures_markup(
    t: Translator, activity_id: int, figures: ActivityFigures
) -> InlineKeyboardMarkup:
    rows = [
        [
            FiguresPeople(activity_id).button(t.gettext("👥 People served")),
            FiguresFunds(activity_id).button(t.gettext("💰 Funds and materials")),
        ],
        [
            FiguresOrganizations(activity_id).button(t.gettext("🏢 Organizations")),
            FiguresMedia(activity_id).button(t.gettext("📰 Add a media report")),
        ],
    ]
    deletes = [
        FiguresMediaDelete(activity_id, media.media_id).button(f"🗑 {number}")
        for number, media in enumerate(figures.media, start=1)
    ]
    rows += button_rows(deletes, 5)
    if not figures.recorded:
        rows.append([FiguresDone(activity_id).button(t.gettext("✅ Nothing (more) to record"))])
    rows.append([ManageCard(activity_id).button(t.gettext("⬅️ Back to the activity"))])
    return InlineKeyboardMarkup(rows)


async def show_figures(
    update: Update,
    context: ZyContext,
    activity_id: int,
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> None:
    activity, figures = await context.services.reports.figures(
        context.user.telegram_id, activity_id
    )
    t = context.t
    text = figures_text(t, activity, figures)
    if notice:
        text = notice + "\n\n" + text
    markup = figures_markup(t, activity_id, figures)
    if new_message:
        await send(update, text, markup)
    else:
        await show(update, text, markup)


async def on_show(update: Update, context: ZyContext, press: FiguresShow) -> None:
    await show_figures(update, context, press.activity_id)
    await answer(update)


async def on_people(update: Update, context: ZyContext, press: FiguresPeople) -> None:
    activity, figures = await context.services.reports.figures(
        context.user.telegram_id, press.activity_id
    )
    t = context.t
    buttons = [
        FiguresPeopleKind(press.activity_id, kind).button(
            t.gettext(PEOPLE_SERVED[kind.value])
            + (f" ({figures.served[kind]})" if kind in figures.served else "")
        )
        for kind in PeopleServed
    ]
    rows = button_rows(buttons, 2)
    rows.append([FiguresShow(press.activity_id).button(t.gettext("⬅️ Back"))])
    await show(
        update,
        t.gettext(
            "👥 Which people did «{title}» serve? Choose a kind, then send the number."
        ).format(title=html(activity.title)),
        InlineKeyboardMarkup(rows),
    )
    await answer(update)


async def on_people_kind(update: Update, context: ZyContext, press: FiguresPeopleKind) -> None:
    await context.services.reports.figures(context.user.telegram_id, press.activity_id)
    await answer(update)
    await take(context, FLOW, "people", {"activity": press.activity_id, "kind": press.kind.value})
    t = context.t
    await send(
        update,
        t.gettext(
            "How many {kind} were served (人次)? Send a number; 0 removes the kind. /cancel to "
            "stop."
        ).format(kind=t.gettext(PEOPLE_SERVED[press.kind.value])),
    )


async def on_funds(update: Update, context: ZyContext, press: FiguresFunds) -> None:
    await context.services.reports.figures(context.user.telegram_id, press.activity_id)
    await answer(update)
    await take(context, FLOW, "funds", {"activity": press.activity_id})
    await send(
        update,
        context.t.gettext(
            "How much money and materials went into the activity, in yuan? For example 1200 or "
            "350.50. /cancel to stop."
        ),
    )


async def on_organizations(update: Update, context: ZyContext, press: FiguresOrganizations) -> None:
    await context.services.reports.figures(context.user.telegram_id, press.activity_id)
    await answer(update)
    await take(context, FLOW, "orgs", {"activity": press.activity_id})
    await send(
        update,
        context.t.gettext(
            "How many volunteer organizations took part, yours included? Send a number from 1 to "
            "{max}. /cancel to stop."
        ).format(max=MAX_ORGANIZATIONS),
    )


async def on_media(update: Update, context: ZyContext, press: FiguresMedia) -> None:
    await context.services.reports.figures(context.user.telegram_id, press.activity_id)
    t = context.t
    buttons = [
        FiguresMediaKind(press.activity_id, kind).button(t.gettext(label))
        for kind, label in MEDIA_KINDS.items()
    ]
    rows = button_rows(buttons, 2)
    rows.append([FiguresShow(press.activity_id).button(t.gettext("⬅️ Back"))])
    await show(update, t.gettext("📰 What kind of report?"), InlineKeyboardMarkup(rows))
    await answer(update)


async def on_media_kind(update: Update, context: ZyContext, press: FiguresMediaKind) -> None:
    await context.services.reports.figures(context.user.telegram_id, press.activity_id)
    await answer(update)
    t = context.t
    state: FlowState = {"activity": press.activity_id, "kind": press.kind.value}
    if press.kind.is_paper:
        await take(context, FLOW, "paper", state)
        await send(
            update,
            t.gettext(
                "Which newspaper, and which day? For example: 长沙晚报 2027-03-06 A3. /cancel to "
                "stop."
            ),
        )
        return
    await take(context, FLOW, "link", state)
    await send(
        update, t.gettext("Send the link to the report (http:// or https://). /cancel to stop.")
    )


async def on_media_delete(update: Update, context: ZyContext, press: FiguresMediaDelete) -> None:
    await context.services.reports.delete_media(
        context.user.telegram_id, press.activity_id, press.media_id
    )
    await answer(update, context.t.gettext("Removed."))
    await show_figures(update, context, press.activity_id)


async def on_done(update: Update, context: ZyContext, press: FiguresDone) -> None:
    await context.services.reports.mark_recorded(context.user.telegram_id, press.activity_id)
    await answer(update, context.t.gettext("Saved."))
    await show_figures(update, context, press.activity_id)


async def on_reads_unknown(update: Update, context: ZyContext, press: FiguresReadsUnknown) -> None:
    owner = await owned_by(context, FLOW)
    if (
        owner is None
        or owner.waiting_for != "reads"
        or owner.int_state("activity") != press.activity_id
    ):
        await answer(
            update, context.t.gettext("This step is over. Please start again."), alert=True
        )
        return
    await answer(update)
    await _save_online(update, context, owner, None)


# -- typed answers -------------------------------------------------------------------------------


async def _saved(update: Update, context: ZyContext, activity_id: int) -> None:
    await release(context, FLOW)
    await show_figures(
        update, context, activity_id, notice=context.t.gettext("✅ Saved."), new_message=True
    )


async def _save_online(
    update: Update, context: ZyContext, owner: FlowOwner, reads: int | None
) -> None:
    activity_id = owner.int_state("activity")
    kind = owner.str_state("kind")
    url = owner.str_state("url")
    if activity_id is None or kind not in MEDIA_CODES or url is None:
        await release(context, FLOW)
        return
    await context.services.reports.add_media(
        context.user.telegram_id, activity_id, MediaKind(kind), title=None, url=url, reads=reads
    )
    await _saved(update, context, activity_id)


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    activity_id = owner.int_state("activity")
    if message is None or not message.text or activity_id is None:
        return
    t = context.t
    reports = context.services.reports
    actor = context.user.telegram_id
    text = message.text
    try:
        match owner.waiting_for:
            case "people":
                kind = owner.str_state("kind")
                if kind not in PEOPLE_CODES:
                    await release(context, FLOW)
                    return
                served = parse_count(text, minimum=0, maximum=MAX_SERVED)
                await reports.set_people(actor, activity_id, PeopleServed(str(kind)), served)
            case "funds":
                await reports.set_funds(actor, activity_id, parse_yuan(text))
            case "orgs":
                count = parse_count(text, minimum=1, maximum=MAX_ORGANIZATIONS)
                await reports.set_organizations(actor, activity_id, count)
            case "paper":
                await reports.add_media(
                    actor, activity_id, MediaKind.PAPER, title=text, url=None, reads=None
                )
            case "link":
                url = parse_link(text)
                await take(
                    context,
                    FLOW,
                    "reads",
                    {"activity": activity_id, "kind": owner.str_state("kind") or "", "url": url},
                )
                markup = InlineKeyboardMarkup(
                    [[FiguresReadsUnknown(activity_id).button(t.gettext("❔ Not known"))]]
                )
                await send(
                    update,
                    t.gettext("How many reads does it have? Send a number, or press “Not known”."),
                    markup,
                )
                return
            case "reads":
                reads = parse_count(text, minimum=0, maximum=MAX_READS)
                await _save_online(update, context, owner, reads)
                return
            case _:
                await release(context, FLOW)
                return
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))
        return
    await _saved(update, context, activity_id)


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, FLOW)
    activity_id = owner.int_state("activity")
    await send(update, context.t.gettext("OK, nothing was changed."))
    if activity_id is not None:
        await show_figures(update, context, activity_id, new_message=True)


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


async def invalid(update: Update, context: ZyContext) -> None:
    await refuse_staff(update, context)


# -- notifications ---------------------------------------------------------------------------------


async def render_figures_due(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    """REPORT_FIGURES_DUE to who confirmed the hours; dropped once the figures are recorded."""
    activity_id = item.payload.get("activity_id")
    if not isinstance(activity_id, int):
        return None
    activity = await services.reports.figures_still_due(activity_id, item.telegram_id)
    if activity is None:
        return None
    text = "\n".join(
        [
            t.gettext("📊 <b>Figures for the statistics table</b>"),
            "",
            t.gettext(
                "The hours of «{title}» are recorded. Please also record the people served, the "
                "money and materials, and any media reports: they go into the statistics table."
            ).format(title=html(activity.title)),
        ]
    )
    markup = InlineKeyboardMarkup(
        [[FiguresShow(activity_id).button(t.gettext("📊 Record the figures"))]]
    )
    return Rendered(text, markup)


async def render_figures_missing(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    """REPORT_FIGURES_MISSING the day before the report; dropped when nothing is missing."""
    organization_id, start = item.payload.get("org"), item.payload.get("start")
    if not isinstance(organization_id, int) or not isinstance(start, str):
        return None
    try:
        start_day = date.fromisoformat(start)
    except ValueError:
        return None
    missing = await services.reports.missing_for(organization_id, start_day, item.telegram_id)
    if not missing:
        return None
    lines = [
        t.gettext("📋 <b>The statistics table goes out tomorrow</b>"),
        "",
        t.ngettext(
            "This activity has no figures yet (people served, money and materials, media):",
            "These {n} activities have no figures yet (people served, money and materials, media):",
            len(missing),
        ).format(n=len(missing)),
    ]
    lines += [f"• {html(due.title)}" for due in missing[:20]]
    if len(missing) > 20:
        lines.append(t.gettext("… and {n} more").format(n=len(missing) - 20))
    rows: list[list[InlineKeyboardButton]] = [
        [FiguresShow(due.activity_id).button(f"📊 {clip(due.title)}")]
        for due in missing[:MAX_REMINDER_BUTTONS]
    ]
    return Rendered("\n".join(lines), InlineKeyboardMarkup(rows))


PRESSES: PressTable = {
    FiguresShow: on_show,
    FiguresPeople: on_people,
    FiguresPeopleKind: on_people_kind,
    FiguresFunds: on_funds,
    FiguresOrganizations: on_organizations,
    FiguresMedia: on_media,
    FiguresMediaKind: on_media_kind,
    FiguresMediaDelete: on_media_delete,
    FiguresDone: on_done,
    FiguresReadsUnknown: on_reads_unknown,
}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=on_other)]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.REPORT_FIGURES_DUE: render_figures_due,
    NotificationKind.REPORT_FIGURES_MISSING: render_figures_missing,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
