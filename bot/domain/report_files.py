"""The statistics table as files: an Excel workbook laid out like the paper form of the
Zhaoqing notice (seed ``002``), and CSV (no Telegram, no I/O).

The workbook reproduces the attachment 活动开展情况统计表: a title, 填报单位, the two-row
header with 覆盖人群 spanning 类型 and 服务人次, one line per activity, 合计, then 媒体宣传情况
with its own header and 合计, and at the foot 联系人, 联系电话 and the 备注. Borders, column
widths, wrapped headers and a CJK font make it print as the form does.

As with roster exports (:mod:`bot.domain.exports`), headers are fixed per language here rather
than taken from the gettext catalog: the table is a document people file and merge, so its
headers must not change with a translation. Text cells are stored as text (never a formula) and
CSV text that a spreadsheet would evaluate is defused.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from bot.domain.activities import PeopleServed
from bot.domain.exports import CSV_BOM
from bot.domain.reports import PeriodSpan, StatTable, hours_of
from bot.domain.users import Language

__all__ = ["SheetHeading", "people_names", "table_csv", "table_filename", "table_xlsx"]

_TEXT: Final[dict[Language, dict[str, str]]] = {
    Language.ZH: {
        "title": "{name}活动开展情况统计表",
        "span": "统计时段：{start} 至 {end}",
        "unit": "填报单位（盖章）：{unit}",
        "no": "序号",
        "activity": "活动名称（含主办单位）",
        "volunteers": "参与志愿者人次",
        "organizations": "参与志愿服务组织数量",
        "people": "覆盖人群",
        "kind": "类型",
        "served": "服务人次",
        "hours": "累计志愿服务时数",
        "funds": "投入资金及物料（元）",
        "total": "合计",
        "media": "媒体宣传情况",
        "paper": "纸媒报道数（条）",
        "online": "网站报道数（条）",
        "links": "网页或微信链接",
        "reads": "网页或微信阅读数（条/次）",
        "contact": "联系人：{name}",
        "phone": "联系电话：{phone}",
        "note": (
            "备注：1、“覆盖人群”栏中“类型”为组织者记录的服务对象（一老一小、残疾人、低收入人群、"
            "农村留守儿童、空巢老人、新就业群体）；2、志愿者人次、服务时数以本系统确认的志愿服务"
            "记录为准，组织数量、服务人次、投入资金及物料、媒体宣传情况由组织者在活动后填写。"
        ),
        "sheet": "活动开展情况统计表",
        "separator": "、",
        "host": "{title}（{host}）",
    },
    Language.EN: {
        "title": "{name}: activities report",
        "span": "Period: {start} to {end}",
        "unit": "Reporting unit: {unit}",
        "no": "No.",
        "activity": "Activity (host)",
        "volunteers": "Volunteer attendances",
        "organizations": "Volunteer organizations",
        "people": "People served",
        "kind": "Kind",
        "served": "Number served",
        "hours": "Service hours",
        "funds": "Funds and materials (yuan)",
        "total": "Total",
        "media": "Media coverage",
        "paper": "Newspaper reports",
        "online": "Web reports",
        "links": "Web or WeChat links",
        "reads": "Reads",
        "contact": "Contact: {name}",
        "phone": "Phone: {phone}",
        "note": (
            "Notes: 1. 'People served' lists the kinds organizers recorded (the elderly and "
            "children, people with disabilities, low-income families, left-behind children, "
            "elderly people living alone, gig and platform workers). 2. Attendances and hours "
            "come from confirmed service records; organizations, people served, funds and media "
            "are entered by organizers after each activity."
        ),
        "sheet": "Activities report",
        "separator": ", ",
        "host": "{title} ({host})",
    },
}

_PEOPLE: Final[dict[Language, dict[PeopleServed, str]]] = {
    Language.ZH: {
        PeopleServed.ELDERLY_CHILDREN: "一老一小",
        PeopleServed.DISABLED: "残疾人",
        PeopleServed.LOW_INCOME: "低收入人群",
        PeopleServed.LEFT_BEHIND_CHILDREN: "农村留守儿童",
        PeopleServed.EMPTY_NEST_ELDERLY: "空巢老人",
        PeopleServed.NEW_EMPLOYMENT: "新就业群体",
    },
    Language.EN: {
        PeopleServed.ELDERLY_CHILDREN: "the elderly and children",
        PeopleServed.DISABLED: "people with disabilities",
        PeopleServed.LOW_INCOME: "low-income families",
        PeopleServed.LEFT_BEHIND_CHILDREN: "left-behind children",
        PeopleServed.EMPTY_NEST_ELDERLY: "elderly people living alone",
        PeopleServed.NEW_EMPLOYMENT: "gig and platform workers",
    },
}

_FONTS: Final[dict[Language, str]] = {Language.ZH: "宋体", Language.EN: "Calibri"}
_WIDTHS: Final = (6, 40, 14, 16, 26, 14, 16, 18)
_COLUMNS: Final = "ABCDEFGH"


def _display_width(text: str) -> int:
    """Column units a text takes: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell of ``width`` units needs (row heights are not fitted on opening)."""
    usable = max(width - 1, 1)
    return sum(max(1, -(-_display_width(line) // int(usable))) for line in text.split("\n"))


def people_names(language: Language) -> dict[PeopleServed, str]:
    return _PEOPLE[language]


@dataclass(frozen=True)
class SheetHeading:
    """What the form says above and below the tables."""

    name: str  # the campaign or period, e.g. "2027 学雷锋纪念日" or "2026年"
    unit: str  # 填报单位: the organization, the district or the federation
    contact_name: str
    contact_phone: str
    span: PeriodSpan


def _row_values(table: StatTable, language: Language) -> list[list[object]]:
    text = _TEXT[language]
    names = _PEOPLE[language]
    rows: list[list[object]] = []
    for number, row in enumerate(table.rows, start=1):
        rows.append(
            [
                number,
                text["host"].format(title=row.title, host=row.organization_name),
                row.volunteers,
                row.organizations,
                text["separator"].join(names[kind] for kind in row.people_kinds),
                row.people_served,
                hours_of(row.minutes),
                row.funds_fen / 100,
            ]
        )
    return rows


def _media_values(table: StatTable, language: Language) -> list[list[object]]:
    text = _TEXT[language]
    return [
        [
            number,
            text["host"].format(title=row.title, host=row.organization_name),
            row.paper,
            row.online,
            "\n".join(row.links),
            row.reads,
        ]
        for number, row in enumerate(table.media, start=1)
    ]


def table_xlsx(table: StatTable, heading: SheetHeading, language: Language) -> bytes:
    # Imported when first needed: a slow import the bot's start-up does not need.
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Alignment, Border, Font, Side

    text = _TEXT[language]
    font_name = _FONTS[language]
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    plain = Font(name=font_name, size=11)
    bold = Font(name=font_name, size=11, bold=True)

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = text["sheet"][:31]
    for letter, width in zip(_COLUMNS, _WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width

    def put(
        row: int,
        column: int,
        value: object,
        *,
        font: Font = plain,
        align: Alignment = center,
        border: bool = True,
        number_format: str | None = None,
    ) -> None:
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = TYPE_STRING  # never a formula, whatever the text starts with
        cell.font = font
        cell.alignment = align
        if border:
            cell.border = box
        if number_format:
            cell.number_format = number_format

    def merge(first: int, first_col: int, last: int, last_col: int, *, border: bool = True) -> None:
        sheet.merge_cells(
            start_row=first, start_column=first_col, end_row=last, end_column=last_col
        )
        if border:  # a merged range shows the borders of each of its cells
            for row in range(first, last + 1):
                for column in range(first_col, last_col + 1):
                    sheet.cell(row=row, column=column).border = box

    span = heading.span
    put(
        1,
        1,
        text["title"].format(name=heading.name),
        font=Font(name=font_name, size=16, bold=True),
        border=False,
    )
    merge(1, 1, 1, 8, border=False)
    sheet.row_dimensions[1].height = 30
    put(
        2,
        1,
        text["span"].format(start=span.start.isoformat(), end=span.end.isoformat()),
        border=False,
    )
    merge(2, 1, 2, 8, border=False)
    put(3, 1, text["unit"].format(unit=heading.unit), align=left, border=False)
    merge(3, 1, 3, 8, border=False)

    # The two-row header: 覆盖人群 spans 类型 and 服务人次; the others span both rows.
    top = 4
    for column, key in ((1, "no"), (2, "activity"), (3, "volunteers"), (4, "organizations")):
        put(top, column, text[key], font=bold)
        merge(top, column, top + 1, column)
    put(top, 5, text["people"], font=bold)
    merge(top, 5, top, 6)
    put(top + 1, 5, text["kind"], font=bold)
    put(top + 1, 6, text["served"], font=bold)
    for column, key in ((7, "hours"), (8, "funds")):
        put(top, column, text[key], font=bold)
        merge(top, column, top + 1, column)
    sheet.row_dimensions[top].height = 36
    sheet.row_dimensions[top + 1].height = 22

    row_number = top + 2
    formats = {7: "0.0", 8: "0.00"}
    for values in _row_values(table, language):
        lines = max(
            _lines_needed(str(values[1]), _WIDTHS[1]), _lines_needed(str(values[4]), _WIDTHS[4])
        )
        sheet.row_dimensions[row_number].height = max(18, 15 * lines)
        for column, value in enumerate(values, start=1):
            put(
                row_number,
                column,
                value,
                align=left if column in (2, 5) else center,
                number_format=formats.get(column),
            )
        row_number += 1
    put(row_number, 1, text["total"], font=bold)
    merge(row_number, 1, row_number, 2)
    totals: list[object] = [
        table.volunteers,
        table.organizations,
        "",
        table.people_served,
        hours_of(table.minutes),
        table.funds_fen / 100,
    ]
    for column, value in enumerate(totals, start=3):
        put(row_number, column, value, font=bold, number_format=formats.get(column))
    row_number += 2

    # 媒体宣传情况: the links take three columns so the sheet keeps the form's width.
    put(row_number, 1, text["media"], font=bold)
    merge(row_number, 1, row_number, 8)
    row_number += 1
    for column, key in ((1, "no"), (2, "activity"), (3, "paper"), (4, "online")):
        put(row_number, column, text[key], font=bold)
    put(row_number, 5, text["links"], font=bold)
    merge(row_number, 5, row_number, 7)
    put(row_number, 8, text["reads"], font=bold)
    sheet.row_dimensions[row_number].height = 36
    row_number += 1
    for number, title, paper, online, links, reads in _media_values(table, language):
        for column, value in ((1, number), (2, title), (3, paper), (4, online), (8, reads)):
            put(row_number, column, value, align=left if column == 2 else center)
        put(row_number, 5, links, align=left)
        merge(row_number, 5, row_number, 7)
        lines = max(
            _lines_needed(str(title), _WIDTHS[1]),
            _lines_needed(str(links), sum(_WIDTHS[4:7])),
        )
        sheet.row_dimensions[row_number].height = max(18, 15 * lines)
        row_number += 1
    put(row_number, 1, text["total"], font=bold)
    merge(row_number, 1, row_number, 2)
    put(row_number, 3, table.paper, font=bold)
    put(row_number, 4, table.online, font=bold)
    put(row_number, 5, "", font=bold)
    merge(row_number, 5, row_number, 7)
    put(row_number, 8, table.reads, font=bold)
    row_number += 2

    put(row_number, 1, text["contact"].format(name=heading.contact_name), align=left, border=False)
    merge(row_number, 1, row_number, 2, border=False)
    put(row_number, 3, text["phone"].format(phone=heading.contact_phone), align=left, border=False)
    merge(row_number, 3, row_number, 8, border=False)
    row_number += 1
    put(row_number, 1, text["note"], align=left, border=False)
    merge(row_number, 1, row_number, 8, border=False)
    sheet.row_dimensions[row_number].height = 48

    sheet.print_title_rows = f"{top}:{top + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToHeight = 0
    workbook.properties.title = text["title"].format(name=heading.name)[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defused(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_csv(table: StatTable, heading: SheetHeading, language: Language) -> bytes:
    """Both tables one after the other (a blank line between), flat headers, UTF-8 with BOM."""
    text = _TEXT[language]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_defused(text["title"].format(name=heading.name))])
    writer.writerow([_defused(text["unit"].format(unit=heading.unit))])
    writer.writerow(
        [
            text["no"],
            text["activity"],
            text["volunteers"],
            text["organizations"],
            f"{text['people']}-{text['kind']}",
            f"{text['people']}-{text['served']}",
            text["hours"],
            text["funds"],
        ]
    )
    for values in _row_values(table, language):
        writer.writerow([_defused(value) for value in values[:7]] + [f"{values[7]:.2f}"])
    writer.writerow(
        [
            text["total"],
            "",
            table.volunteers,
            table.organizations,
            "",
            table.people_served,
            hours_of(table.minutes),
            f"{table.funds_fen / 100:.2f}",
        ]
    )
    writer.writerow([])
    writer.writerow([text["media"]])
    writer.writerow(
        [text["no"], text["activity"], text["paper"], text["online"], text["links"], text["reads"]]
    )
    for number, title, paper, online, links, reads in _media_values(table, language):
        writer.writerow(
            [number, _defused(title), paper, online, _defused(str(links).replace("\n", " ")), reads]
        )
    writer.writerow([text["total"], "", table.paper, table.online, "", table.reads])
    writer.writerow([])
    writer.writerow(
        [
            _defused(text["contact"].format(name=heading.contact_name)),
            _defused(text["phone"].format(phone=heading.contact_phone)),
        ]
    )
    return (CSV_BOM + buffer.getvalue()).encode("utf-8")


_UNSAFE = re.compile(r"[^\w\-]+")


def table_filename(heading: SheetHeading, ext: str) -> str:
    """``统计表-20270301-20270331-芙蓉区青年志愿者协会.xlsx``: letters, digits, ``-`` and ``_``."""
    span = heading.span
    slug = _UNSAFE.sub("_", unicodedata.normalize("NFC", heading.unit)).strip("_")[:40]
    stem = f"report-{span.start:%Y%m%d}-{span.end:%Y%m%d}" + (f"-{slug}" if slug else "")
    return f"{stem}.{ext}"
