"""The Friday report: campaign periods (administrators, ``/periods``), the job that plans the
reports and reminders, and the rendering of the report itself.

```mermaid
stateDiagram-v2
    [*] --> Periods: /periods · rp.home (administrators)
    Periods --> Typing: rp.ed:<key date> (flow report_period takes the input)
    Typing --> Typing: unreadable days (localized reason, asked again)
    Typing --> Periods: "3-1 3-31" saved (release)
    Typing --> Periods: /cancel (release)
    Periods --> Periods: rp.on:<key date>:<0|1> (switch a period off or on)
```

A campaign period runs from some days before a key date to some days after it (by default
all of March around 3·5, and the week around 12·5), so a lunar key date carries its period with
it. During a period, every ``REPORT_WEEKDAY`` from ``REPORT_TIME``, each organization with
activities in the period has its managers sent its statistics table (an XLSX document laid out
like the form, captioned with the totals), and the administrators the federation's roll-up; the
day before, the staff of organizations whose ended activities lack figures are reminded.

The report is a document sent through the outbox (``Rendered.document``: :mod:`bot.delivery`
sends it with ``sendDocument``, the caption being the text), rendered at send time so the table
holds the figures as they are when it goes out. It is dropped when the recipient no longer
manages the organization or is no longer an administrator.

Every ``rp.`` press and typed period is re-checked in the service: only administrators pass.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered, RenderedFile
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.report_files import SheetHeading
from bot.domain.reports import PeriodKind
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from handlers.activity_view import clip
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.render import answer, html, send, show
from handlers.report_buttons import FileFormat, PeriodEdit, PeriodsHome, PeriodToggle, StatsShow
from handlers.report_figures import TEXTS
from handlers.staff import refuse_staff
from handlers.stats import heading_name, ref_of, table_caption, table_document

log = logging.getLogger(__name__)

FLOW = "report_period"


# -- campaign periods (administrators) -------------------------------------------------------------


async def show_periods(
    update: Update, context: ZyContext, *, notice: str | None = None, new_message: bool = False
) -> None:
    services = context.services
    t = context.t
    periods = await services.reports.periods(context.user.telegram_id)
    weekday = _weekday_name(t, services.reports.policy.weekday)
    lines = []
    if notice:
        lines += [notice, ""]
    lines += [
        t.gettext("🗓 <b>Report periods</b>"),
        t.gettext(
            "During a period every organization's managers receive their statistics table each "
            "{weekday} at {time}, and administrators the federation's; organizations missing "
            "figures are reminded the day before."
        ).format(weekday=weekday, time=services.reports.policy.send_time.strftime("%H:%M")),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    language = t.language.value
    for key_date, period, key_day in periods:
        name = key_date.name(language)
        if period is None:
            lines.append(t.gettext("▫️ {name}: no period").format(name=html(name)))
        else:
            span = period.around(key_day)
            state = "✅" if period.is_enabled else "⏸"
            lines.append(
                t.gettext("{state} {name}: {start} to {end}").format(
                    state=state,
                    name=html(name),
                    start=t.format_day(span.start, year=True),
                    end=t.format_day(span.end, year=True),
                )
            )
        row = [PeriodEdit(key_date.code).button(t.gettext("✏️ {name}").format(name=clip(name)))]
        if period is not None:
            row.append(
                PeriodToggle(key_date.code, not period.is_enabled).button(
                    t.gettext("▶️ On") if not period.is_enabled else t.gettext("⏸ Off")
                )
            )
        rows.append(row)
    markup = InlineKeyboardMarkup(rows)
    if new_message:
        await send(update, "\n".join(lines), markup)
    else:
        await show(update, "\n".join(lines), markup)


def _weekday_name(t: Translator, weekday: int) -> str:
    monday = date(2024, 1, 1)  # a Monday
    return t.format_date(monday + timedelta(days=weekday - 1), "EEEE")


async def on_command(update: Update, context: ZyContext) -> None:
    await show_periods(update, context, new_message=True)


async def on_home(update: Update, context: ZyContext, press: PeriodsHome) -> None:
    await show_periods(update, context)
    await answer(update)


async def on_toggle(update: Update, context: ZyContext, press: PeriodToggle) -> None:
    await context.services.reports.set_period_enabled(
        context.user.telegram_id, press.key_date, press.enabled
    )
    await answer(update, context.t.gettext("Saved."))
    await show_periods(update, context)


async def on_edit(update: Update, context: ZyContext, press: PeriodEdit) -> None:
    periods = await context.services.reports.periods(context.user.telegram_id)
    found = next((p for p in periods if p[0].code == press.key_date), None)
    if found is None:
        await refuse_staff(update, context)
        return
    key_date, _period, key_day = found
    await answer(update)
    await take(context, FLOW, "days", {"key_date": key_date.code})
    t = context.t
    await send(
        update,
        t.gettext(
            "Send the first and the last day of the period around {name} ({day}), such as "
            "3-1 3-31 or 3月1日-3月31日. /cancel to stop."
        ).format(name=html(key_date.name(t.language.value)), day=t.format_day(key_day, year=True)),
    )


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    code = owner.str_state("key_date")
    if message is None or not message.text or code is None:
        return
    try:
        await context.services.reports.set_period(context.user.telegram_id, code, message.text)
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return
    await release(context, FLOW)
    await show_periods(update, context, notice=context.t.gettext("✅ Saved."), new_message=True)


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await release(context, FLOW)
    await send(update, context.t.gettext("OK, nothing was changed."))


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


async def invalid(update: Update, context: ZyContext) -> None:
    await refuse_staff(update, context)


# -- the report ------------------------------------------------------------------------------------


async def render_weekly(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """REPORT_WEEKLY: the statistics table as an XLSX document, the totals as its caption."""
    report = await services.reports.weekly_for(item.telegram_id, item.payload)
    if report is None:
        return None
    organization = report.organization
    if organization is not None:
        unit = organization.name
        contact, phone = organization.contact_name, organization.contact_phone
    else:
        unit = t.gettext("the whole federation")
        contact, phone = "", ""
    heading = SheetHeading(
        name=heading_name(t, report.span, PeriodKind.CAMPAIGN, report.key_date),
        unit=unit,
        contact_name=contact,
        contact_phone=phone,
        span=report.span,
    )
    filename, data = table_document(report.table, heading, t.language, FileFormat.XLSX)
    caption = (
        t.gettext("🗓 <b>Weekly report</b>")
        + "\n"
        + table_caption(t, heading.name + " · " + unit, report.table, report.span)
    )
    markup = InlineKeyboardMarkup(
        [[StatsShow(report.scope.kind, ref_of(report.scope)).button(t.gettext("📈 Statistics"))]]
    )
    return Rendered(caption, markup, document=RenderedFile(filename, data))


async def plan_reports(context: ZyContext) -> None:
    """The repeating job: "record your figures", the day-before reminder, the report."""
    if await context.services.reports.plan():
        nudge_outbox(context)


PRESSES: PressTable = {PeriodsHome: on_home, PeriodEdit: on_edit, PeriodToggle: on_toggle}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=on_other)]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {NotificationKind.REPORT_WEEKLY: render_weekly}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("periods", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
