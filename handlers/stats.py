"""``/stats``: the numbers of an organization (its members) or of the federation and its
districts (administrators), the statistics table as Excel or CSV, and charts as pictures.

```mermaid
flowchart LR
    cmd[/stats/] --> numbers[Numbers of the scope: organization, district or federation]
    numbers -->|st.t scope ref period format| file[Statistics table: XLSX like the form, or CSV]
    numbers -->|st.c scope ref chart| chart[PNG: hours, active, attendance, category, district]
    numbers -->|st scope ref| numbers
    numbers -->|st.areas| areas[Districts] -->|st a code| numbers
    numbers -->|rp.home| periods[Campaign periods: handlers.reports]
```

A press names the scope it was drawn for (``o`` and an organization id, ``a`` and a district
code, ``all``); :meth:`~bot.services.reports.ReportService.authorize` re-checks it on the server:
an organization's numbers for its members and administrators only, a district's and the
federation's for administrators only. A forged press gets the staff refusal and nothing else.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Services, ZyContext
from bot.domain.activities import Organization
from bot.domain.keydates import KeyDate
from bot.domain.report_charts import ChartSpec, render_chart
from bot.domain.report_files import SheetHeading, table_csv, table_filename, table_xlsx
from bot.domain.reports import (
    ChartKind,
    PeriodKind,
    PeriodSpan,
    ScopeKind,
    Stats,
    StatTable,
    hours_of,
    months_back,
)
from bot.domain.users import Language
from bot.i18n import N_, Translator
from bot.services.reports import Scope
from handlers.activity_view import Names
from handlers.callbacks import button_rows, parse_id
from handlers.press_table import PressTable, press_handlers
from handlers.render import answer, html, send, show
from handlers.report_buttons import (
    FileFormat,
    PeriodsHome,
    StatsAreas,
    StatsChart,
    StatsShow,
    StatsTable,
)
from handlers.report_figures import TEXTS
from handlers.request_dispatch import figures_line
from handlers.staff import refuse_staff

CHART_MONTHS = 12
BREAKDOWN_LINES = 8

CHART_LABELS = {
    ChartKind.HOURS: N_("📊 Hours per month"),
    ChartKind.ACTIVE: N_("👥 Active volunteers"),
    ChartKind.ATTENDANCE: N_("✅ Sign-ups and attendance"),
    ChartKind.CATEGORY: N_("🏷 By category"),
    ChartKind.AREA: N_("🗺 By district"),
}
PERIOD_LABELS = {
    PeriodKind.CAMPAIGN: N_("campaign period"),
    PeriodKind.MONTH: N_("this month"),
    PeriodKind.YEAR: N_("this year"),
}


def scope_of(kind: ScopeKind, ref: str) -> Scope | None:
    """The scope a press names, or ``None`` when ``ref`` does not fit its kind."""
    if kind is ScopeKind.ORGANIZATION:
        organization_id = parse_id(ref)
        return Scope(kind, organization_id=organization_id) if organization_id else None
    if kind is ScopeKind.AREA:
        return Scope(kind, area_code=ref)
    return Scope(ScopeKind.ALL) if ref == "all" else None


def ref_of(scope: Scope) -> str:
    if scope.kind is ScopeKind.ORGANIZATION:
        return str(scope.organization_id)
    if scope.kind is ScopeKind.AREA:
        return scope.area_code or ""
    return "all"


async def scope_name(
    services: Services, t: Translator, scope: Scope, organization: Organization | None
) -> str:
    if organization is not None:
        return organization.name
    if scope.kind is ScopeKind.AREA and scope.area_code:
        area = await services.catalog.area(scope.area_code)
        return area.name(t.language.value) if area is not None else scope.area_code
    return t.gettext("the whole federation")


def percent(t: Translator, value: float) -> str:
    return t.format_number(round(value * 100, 1)) + "%"


def stats_text(t: Translator, name: str, stats: Stats, scope: Scope, names: Names) -> str:
    lines = [t.gettext("📈 <b>Statistics</b> · {name}").format(name=html(name)), ""]
    if scope.kind is ScopeKind.ORGANIZATION:
        lines.append(
            t.gettext("👥 Volunteers with records here: {n}").format(
                n=t.format_number(stats.registered)
            )
        )
    else:
        lines.append(
            t.gettext("👥 Registered volunteers: {n}").format(n=t.format_number(stats.registered))
        )
    lines += [
        t.gettext("🙋 Active in the last 30 days: {n}").format(
            n=t.format_number(stats.active_30_days)
        ),
        t.gettext("🕒 Service hours this year: {hours}").format(
            hours=t.format_number(hours_of(stats.minutes_this_year))
        ),
        t.gettext("📅 Activities this year: {n}").format(
            n=t.format_number(stats.activities_this_year)
        ),
    ]
    if stats.attendance_rate is not None:
        lines.append(
            t.gettext("✅ Attendance: {rate} ({came} of {signed} confirmed sign-ups)").format(
                rate=percent(t, stats.attendance_rate),
                came=t.format_number(stats.attended),
                signed=t.format_number(stats.signups),
            )
        )
    else:
        lines.append(t.gettext("✅ Attendance: no recorded activities yet"))
    if stats.average_rating is not None:
        lines.append(
            t.ngettext(
                "⭐ Average rating: {stars} ({n} rating)",
                "⭐ Average rating: {stars} ({n} ratings)",
                stats.ratings,
            ).format(stars=t.format_number(round(stats.rating_total, 1)), n=stats.ratings)
        )
    if stats.participation_rate is not None and stats.population:
        lines.append(
            t.gettext("🏙 Participation: {rate} of {population} inhabitants").format(
                rate=percent(t, stats.participation_rate),
                population=t.format_number(stats.population),
            )
        )
    if stats.by_area:
        lines += ["", t.gettext("<b>By district</b> (hours this year · attendances · registered)")]
        for line in stats.by_area[:BREAKDOWN_LINES]:
            area = names.areas.get(line.code) or t.gettext("no district")
            lines.append(
                f"• {html(area)}: {t.format_number(hours_of(line.minutes))} · "
                f"{t.format_number(line.volunteers)} · {t.format_number(line.registered or 0)}"
            )
    if stats.by_category:
        lines += ["", t.gettext("<b>By category</b> (hours this year · attendances)")]
        for line in stats.by_category[:BREAKDOWN_LINES]:
            category = names.categories.get(line.code) or t.gettext("no category")
            lines.append(
                f"• {html(category)}: {t.format_number(hours_of(line.minutes))} · "
                f"{t.format_number(line.volunteers)}"
            )
    return "\n".join(lines)


def stats_markup(
    t: Translator, scope: Scope, admin: bool, organizations: list[Organization]
) -> InlineKeyboardMarkup:
    ref = ref_of(scope)
    rows: list[list[InlineKeyboardButton]] = []
    for period in (PeriodKind.CAMPAIGN, PeriodKind.MONTH, PeriodKind.YEAR):
        label = t.gettext(PERIOD_LABELS[period])
        rows.append(
            [
                StatsTable(scope.kind, ref, period, FileFormat.XLSX).button(
                    t.gettext("📋 Table, {period} (Excel)").format(period=label)
                ),
                StatsTable(scope.kind, ref, period, FileFormat.CSV).button(
                    t.gettext("📄 CSV").format(period=label)
                ),
            ]
        )
    charts = [
        StatsChart(scope.kind, ref, kind).button(t.gettext(label))
        for kind, label in CHART_LABELS.items()
    ]
    rows += button_rows(charts, 2)
    others = [
        StatsShow(ScopeKind.ORGANIZATION, str(org.organization_id)).button(f"🏢 {org.name}"[:40])
        for org in organizations
        if scope.kind is not ScopeKind.ORGANIZATION or org.organization_id != scope.organization_id
    ]
    rows += button_rows(others[:6], 2)
    if admin:
        row = [
            StatsAreas().button(t.gettext("🗺 Districts")),
            PeriodsHome().button(t.gettext("🗓 Report periods")),
        ]
        if scope.kind is not ScopeKind.ALL:
            row.append(StatsShow(ScopeKind.ALL, "all").button(t.gettext("🏙 Federation")))
        rows.append(row)
    return InlineKeyboardMarkup(rows)


async def show_stats(update: Update, context: ZyContext, scope: Scope | None) -> None:
    services = context.services
    actor = context.user.telegram_id
    t = context.t
    admin, organizations = await services.reports.scopes_for(actor)
    if scope is None:
        if admin:
            scope = Scope(ScopeKind.ALL)
        elif organizations:
            scope = Scope(ScopeKind.ORGANIZATION, organization_id=organizations[0].organization_id)
        else:
            await send(
                update,
                t.gettext("Statistics are for organizers and administrators. /organize to apply."),
            )
            return
    organization = await services.reports.authorize(actor, scope)
    stats = await services.reports.stats(actor, scope)
    names = await Names.load(services, t)
    name = await scope_name(services, t, scope, organization)
    text = stats_text(t, name, stats, scope, names)
    # Resident requests (点单→派单→接单→评单): the federation's numbers for the whole scope,
    # the team's own for an organization (issue #19's numbers in /stats).
    requests = await services.requests.stats()
    if scope.kind is ScopeKind.ALL and requests.overall.total:
        text += "\n\n" + figures_line(t, t.gettext("Resident requests"), requests.overall)
    elif scope.kind is ScopeKind.ORGANIZATION:
        team = next((f for f in requests.teams if f.key == str(scope.organization_id)), None)
        if team is not None and team.total:
            text += "\n\n" + figures_line(t, t.gettext("Resident requests"), team)
    await show(update, text, stats_markup(t, scope, admin, organizations))


async def on_command(update: Update, context: ZyContext) -> None:
    await show_stats(update, context, None)


async def on_show(update: Update, context: ZyContext, press: StatsShow) -> None:
    scope = scope_of(press.scope, press.ref)
    if scope is None:
        await refuse_staff(update, context)
        return
    await show_stats(update, context, scope)
    await answer(update)


async def on_areas(update: Update, context: ZyContext, press: StatsAreas) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    t = context.t
    areas = await context.services.catalog.areas()
    buttons = [
        StatsShow(ScopeKind.AREA, area.code).button(area.name(t.language.value))
        for area in areas
        if len(area.code) <= 32
    ]
    rows = button_rows(buttons, 2)
    rows.append([StatsShow(ScopeKind.ALL, "all").button(t.gettext("🏙 Federation"))])
    await show(update, t.gettext("🗺 Which district?"), InlineKeyboardMarkup(rows))
    await answer(update)


# -- the table as a file ---------------------------------------------------------------------------


def heading_name(
    t: Translator, span: PeriodSpan, kind: PeriodKind, key_date: KeyDate | None
) -> str:
    if key_date is not None and span.key_day is not None:
        return f"{span.key_day.year} {key_date.name(t.language.value)}"
    if kind is PeriodKind.MONTH:
        return t.format_month(span.start.year, span.start.month)
    return f"{span.start.year}年" if t.language is Language.ZH else str(span.start.year)


def table_document(
    table: StatTable, heading: SheetHeading, language: Language, file_format: FileFormat
) -> tuple[str, bytes]:
    if file_format is FileFormat.CSV:
        return table_filename(heading, "csv"), table_csv(table, heading, language)
    return table_filename(heading, "xlsx"), table_xlsx(table, heading, language)


def table_caption(t: Translator, name: str, table: StatTable, span: PeriodSpan) -> str:
    lines = [
        t.gettext("📋 <b>Statistics table</b> · {name}").format(name=html(name)),
        t.gettext("{start} to {end}").format(
            start=t.format_day(span.start, year=True), end=t.format_day(span.end, year=True)
        ),
        t.ngettext(
            "{n} activity · {people} volunteer attendances · {hours} hours",
            "{n} activities · {people} volunteer attendances · {hours} hours",
            len(table.rows),
        ).format(
            n=len(table.rows),
            people=t.format_number(table.volunteers),
            hours=t.format_number(hours_of(table.minutes)),
        ),
    ]
    if table.missing:
        lines.append(
            t.ngettext(
                "⚠️ {n} activity has no figures yet (people served, money, media).",
                "⚠️ {n} activities have no figures yet (people served, money, media).",
                len(table.missing),
            ).format(n=len(table.missing))
        )
    return "\n".join(lines)


async def on_table(update: Update, context: ZyContext, press: StatsTable) -> None:
    scope = scope_of(press.scope, press.ref)
    if scope is None:
        await refuse_staff(update, context)
        return
    services = context.services
    reports = services.reports
    actor = context.user.telegram_id
    t = context.t
    organization = await reports.authorize(actor, scope)
    span = await reports.span(press.period)
    key_date = await reports.key_date(span.key_date_code)
    table = await reports.table(actor, scope, span)
    await answer(update, t.gettext("Preparing the file…"))
    name = await scope_name(services, t, scope, organization)
    heading = SheetHeading(
        name=heading_name(t, span, press.period, key_date),
        unit=name,
        contact_name=organization.contact_name if organization else context.user.first_name,
        contact_phone=organization.contact_phone if organization else "",
        span=span,
    )
    filename, payload = table_document(table, heading, t.language, press.format)
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(
        io.BytesIO(payload),
        filename=filename,
        caption=table_caption(t, heading.name + " · " + name, table, span),
        parse_mode=ParseMode.HTML,
    )


# -- charts ----------------------------------------------------------------------------------------


async def chart_spec(context: ZyContext, scope: Scope, kind: ChartKind, name: str) -> ChartSpec:
    reports = context.services.reports
    actor = context.user.telegram_id
    t = context.t
    today = reports.today()
    months = months_back(today, CHART_MONTHS)
    keys = [f"{year}-{month:02d}" for year, month in months]
    first = date(months[0][0], months[0][1], 1)
    year_start = date(today.year, 1, 1)
    if kind in (ChartKind.HOURS, ChartKind.ACTIVE):
        found = {
            month: (minutes, people)
            for month, minutes, people in await reports.monthly(actor, scope, first)
        }
        if kind is ChartKind.HOURS:
            return ChartSpec(
                title=t.gettext("Service hours per month · {name}").format(name=name),
                labels=tuple(keys),
                series=(
                    (t.gettext("hours"), tuple(hours_of(found.get(k, (0, 0))[0]) for k in keys)),
                ),
                value_label=t.gettext("hours"),
                line=False,
            )
        return ChartSpec(
            title=t.gettext("Active volunteers per month · {name}").format(name=name),
            labels=tuple(keys),
            series=(
                (t.gettext("volunteers"), tuple(float(found.get(k, (0, 0))[1]) for k in keys)),
            ),
            value_label=t.gettext("volunteers"),
            line=True,
        )
    if kind is ChartKind.ATTENDANCE:
        signed = dict.fromkeys(keys, 0)
        came = dict.fromkeys(keys, 0)
        for activity in await reports.attendance_by_activity(actor, scope, first):
            local = activity.starts_at.astimezone(reports.tz)
            key = f"{local.year}-{local.month:02d}"
            if key in signed:
                signed[key] += activity.signups
                came[key] += activity.attended
        return ChartSpec(
            title=t.gettext("Sign-ups and attendance per month · {name}").format(name=name),
            labels=tuple(keys),
            series=(
                (t.gettext("confirmed sign-ups"), tuple(float(signed[k]) for k in keys)),
                (t.gettext("checked in"), tuple(float(came[k]) for k in keys)),
            ),
            value_label=t.gettext("people"),
        )
    by_area = kind is ChartKind.AREA
    names = await Names.load(context.services, t)
    table = names.areas if by_area else names.categories
    lines = (await reports.breakdown(actor, scope, year_start, by_area=by_area))[:12]
    return ChartSpec(
        title=(
            t.gettext("Service hours this year by district · {name}")
            if by_area
            else t.gettext("Service hours this year by category · {name}")
        ).format(name=name),
        labels=tuple(table.get(code) or "—" for code, _people, _minutes in lines),
        series=((t.gettext("hours"), tuple(hours_of(minutes) for _c, _p, minutes in lines)),),
        value_label=t.gettext("hours"),
        horizontal=True,
    )


async def on_chart(update: Update, context: ZyContext, press: StatsChart) -> None:
    scope = scope_of(press.scope, press.ref)
    if scope is None:
        await refuse_staff(update, context)
        return
    services = context.services
    t = context.t
    organization = await services.reports.authorize(context.user.telegram_id, scope)
    await answer(update, t.gettext("Drawing the chart…"))
    name = await scope_name(services, t, scope, organization)
    spec = await chart_spec(context, scope, press.chart, name)
    # Drawing takes a few hundred milliseconds: off the event loop, so other users wait not.
    png = await asyncio.to_thread(render_chart, spec)
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_photo(png, caption=html(spec.title), parse_mode=ParseMode.HTML)


async def invalid(update: Update, context: ZyContext) -> None:
    await refuse_staff(update, context)


PRESSES: PressTable = {
    StatsShow: on_show,
    StatsAreas: on_areas,
    StatsTable: on_table,
    StatsChart: on_chart,
}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("stats", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
