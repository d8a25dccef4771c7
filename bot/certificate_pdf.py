"""The certificate as a PDF (fpdf2): A4, one page, a Chinese font subset embedded.

Why fpdf2: pure Python, and it embeds a *subset* of a TrueType/OpenType font (also one face of a
``.ttc`` collection such as Debian's WenQuanYi Micro Hei), so the PDF reads the same on any
phone or printer; ReportLab's built-in STSong-Light is not embedded and shows boxes on readers
without it. The QR code (segno) is the verification link ``https://t.me/<bot>?start=cv_<code>``.

The drawing is deterministic for one certificate (the creation date is the issue time, the
document id derives from the contents), so the copy sent today equals the copy sent next year —
nothing but the snapshot stored in ``certificates`` is needed to draw it again. The labels come
from the gettext catalogs in the certificate's language, so an English volunteer's certificate
is in English. This module draws only; it reads no database and sends nothing (handlers send
the bytes), and the domain stays free of I/O.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import cast

import segno
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

from bot.domain.certificates import CertificateDocument, CertificateSnapshot, UnitTotal
from bot.domain.hours import format_hours
from bot.i18n import Translator

PAGE_W = 210.0
PAGE_H = 297.0
MARGIN = 22.0  # text starts inside the borders
WIDTH = PAGE_W - 2 * MARGIN
FONT = "cjk"
#: Rows of the table: the records when at most this many, else one row per recording unit.
TABLE_ROWS = 12
QR_SIZE = 34.0  # mm
QR_SCALE = 8  # pixels per module of the embedded PNG (crisp when printed)

RED = (163, 29, 36)  # 中国红, for the borders and the title
GOLD = (191, 144, 61)
INK = (33, 33, 33)
GREY = (110, 110, 110)
LIGHT = (246, 240, 231)


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as the PNG the PDF embeds (tests compare the two)."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=QR_SCALE, border=2)
    return buffer.getvalue()


def hours(t: Translator, minutes: int) -> str:
    return t.gettext("{hours} h").format(hours=format_hours(minutes))


def long_date(t: Translator, value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(t.timezone).date()
    return t.format_date(value, "long")


def period_text(t: Translator, document: CertificateDocument) -> str:
    period = document.certificate.period
    snapshot = document.snapshot
    if period.start is not None and period.end is not None:
        start, end = period.start, period.end
    elif snapshot.first_day is not None and snapshot.last_day is not None:
        start, end = snapshot.first_day, snapshot.last_day
    else:  # pragma: no cover - a certificate has at least one record
        return "—"
    return t.gettext("{start} – {end}").format(start=long_date(t, start), end=long_date(t, end))


class _Certificate(FPDF):
    def __init__(self, font: Path) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        if font.suffix.lower() == ".ttc":
            self.add_font(FONT, fname=str(font), collection_font_number=0)
        else:
            self.add_font(FONT, fname=str(font))
        self.c_margin = 1.6

    def text_width_fit(self, text: str, width: float) -> str:
        """``text`` cut with "…" to fit ``width`` in the current font."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"

    def wrap(self, text: str, width: float) -> list[str]:
        """``text`` in lines that fit ``width`` (cells keep ``c_margin`` on both sides)."""
        lines = self.multi_cell(width, 7, text, dry_run=True, output=MethodReturnValue.LINES)
        return [str(line) for line in cast(list[str], lines)]

    def borders(self) -> None:
        self.set_draw_color(*RED)
        self.set_line_width(1.2)
        self.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
        self.set_draw_color(*GOLD)
        self.set_line_width(0.4)
        self.rect(11, 11, PAGE_W - 22, PAGE_H - 22)
        # Corner ornaments: small squares where the frames meet the eye first.
        self.set_fill_color(*RED)
        for x, y in ((9.5, 9.5), (PAGE_W - 12.5, 9.5), (9.5, PAGE_H - 12.5)):
            self.rect(x, y, 3, 3, style="F")
        self.rect(PAGE_W - 12.5, PAGE_H - 12.5, 3, 3, style="F")


def render(document: CertificateDocument, t: Translator, link: str, font: Path) -> bytes:
    """The PDF of ``document`` in ``t``'s language, with the QR of ``link``."""
    pdf = _Certificate(font)
    certificate = document.certificate
    snapshot = document.snapshot
    title = t.gettext("Certificate of Volunteer Service")
    pdf.set_title(f"{title} {document.number}")
    pdf.set_author(document.issuer_name)
    pdf.set_subject(title)
    pdf.set_creator("Zhiyuan")
    pdf.set_creation_date(document.issued_at)
    pdf.add_page()
    pdf.borders()

    # -- the heading ---------------------------------------------------------------------------
    pdf.set_text_color(*RED)
    pdf.set_font(FONT, size=30 if t.language.value == "zh" else 24)
    pdf.set_xy(MARGIN, 26)
    pdf.cell(WIDTH, 14, title, align="C")
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.6)
    pdf.line(PAGE_W / 2 - 35, 43, PAGE_W / 2 + 35, 43)
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, size=10)
    pdf.set_xy(MARGIN, 46)
    pdf.cell(
        WIDTH,
        6,
        t.gettext("Certificate No. {number}").format(number=document.number),
        align="C",
    )

    # -- the statement -------------------------------------------------------------------------
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=12.5)
    pdf.set_xy(MARGIN + 4, 58)
    statement = t.gettext(
        "This is to certify that {name} took part in volunteer service recorded on this "
        "platform during {period}, for a total of {hours} of service."
    ).format(
        name=document.full_name,
        period=period_text(t, document),
        hours=hours(t, snapshot.total_minutes),
    )
    pdf.multi_cell(WIDTH - 8, 7.5, statement, align="L")

    # -- the fields ----------------------------------------------------------------------------
    fields: list[tuple[str, str]] = [(t.gettext("Name"), document.full_name)]
    if certificate.masked_id_number:
        fields.append((t.gettext("ID number"), certificate.masked_id_number))
    fields += [
        (t.gettext("Service hours"), hours(t, snapshot.total_minutes)),
        (
            t.gettext("Service records"),
            t.ngettext("{n} record", "{n} records", snapshot.record_count).format(
                n=snapshot.record_count
            ),
        ),
        (t.gettext("Service content"), snapshot.content_summary),
        (t.gettext("Recording unit(s)"), _units_text(t, snapshot)),
        (t.gettext("Period"), period_text(t, document)),
    ]
    y = pdf.get_y() + 4
    label_w = 38.0
    pdf.set_line_width(0.2)
    pdf.set_draw_color(*GOLD)
    for label, value in fields:
        pdf.set_font(FONT, size=10.5)
        lines = pdf.wrap(value, WIDTH - label_w)[:3]
        height = 7.0 * max(1, min(len(lines), 3))
        pdf.set_fill_color(*LIGHT)
        pdf.rect(MARGIN, y, label_w, height, style="DF")
        pdf.rect(MARGIN + label_w, y, WIDTH - label_w, height, style="D")
        pdf.set_text_color(*GREY)
        pdf.set_xy(MARGIN, y)
        pdf.cell(label_w, 7, label, align="C")
        pdf.set_text_color(*INK)
        pdf.set_xy(MARGIN + label_w, y)
        for number, line in enumerate(lines):
            pdf.set_xy(MARGIN + label_w, y + 7 * number)
            pdf.cell(WIDTH - label_w, 7, line, align="L")
        y += height

    # -- the table -----------------------------------------------------------------------------
    y += 6
    if snapshot.lists_records and snapshot.record_count <= TABLE_ROWS:
        y = _records_table(pdf, t, snapshot, y)
    else:
        y = _units_table(pdf, t, snapshot.unit_totals(), y)

    # -- the issuer, the date and the verification ---------------------------------------------
    bottom = PAGE_H - 24 - QR_SIZE
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=12)
    pdf.set_xy(PAGE_W / 2, bottom)
    pdf.cell(WIDTH / 2, 7, t.pgettext("certificate", "Issued by"), align="R")
    pdf.set_font(FONT, size=13)
    pdf.set_xy(PAGE_W / 2 - 20, bottom + 8)
    pdf.cell(WIDTH / 2 + 20, 8, document.issuer_name, align="R")
    pdf.set_font(FONT, size=11)
    pdf.set_xy(PAGE_W / 2, bottom + 17)
    pdf.cell(
        WIDTH / 2,
        7,
        t.gettext("Issued on {day}").format(day=long_date(t, document.issued_at)),
        align="R",
    )

    pdf.image(io.BytesIO(qr_png(link)), x=MARGIN, y=bottom, w=QR_SIZE, h=QR_SIZE)
    note_x = MARGIN + QR_SIZE + 4
    note_w = PAGE_W / 2 - note_x + 8
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, size=8.5)
    pdf.set_xy(note_x, bottom)
    pdf.multi_cell(
        note_w,
        4.6,
        t.gettext(
            "Issued free of charge. Anyone can verify it: scan the QR code, or send the bot "
            "/verify and the code below."
        ),
        align="L",
    )
    pdf.set_xy(note_x, pdf.get_y() + 2)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=8)
    pdf.cell(note_w, 5, t.gettext("Verification code"), align="L")
    pdf.set_xy(note_x, pdf.get_y() + 5)
    pdf.set_font(FONT, size=10)
    pdf.cell(note_w, 6, certificate.code, align="L")
    pdf.set_font(FONT, size=7.5)
    pdf.set_xy(MARGIN, PAGE_H - 20)
    pdf.cell(
        WIDTH,
        5,
        t.gettext(
            "Issued under the Measures for Volunteer Service Records and Certificates "
            "(Ministry of Civil Affairs Order No. 67)."
        ),
        align="C",
    )
    return bytes(pdf.output())


def _units_text(t: Translator, snapshot: CertificateSnapshot) -> str:
    units = list(snapshot.recording_units)
    if len(units) > 4:
        rest = len(units) - 3
        units = [*units[:3], t.ngettext("and {n} more", "and {n} more", rest).format(n=rest)]
    return t.gettext(", ").join(units)


def _header(pdf: _Certificate, columns: list[tuple[str, float]], y: float) -> float:
    pdf.set_fill_color(*RED)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT, size=9.5)
    x = MARGIN
    for label, width in columns:
        pdf.set_xy(x, y)
        pdf.cell(width, 7, label, align="C", fill=True)
        x += width
    return y + 7


def _row(pdf: _Certificate, cells: list[tuple[str, float, str]], y: float, shaded: bool) -> float:
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=9)
    pdf.set_fill_color(*LIGHT)
    x = MARGIN
    for text, width, align in cells:
        pdf.set_xy(x, y)
        pdf.cell(
            width,
            6.4,
            pdf.text_width_fit(text, width - 2 * pdf.c_margin),
            align=align,
            fill=shaded,
        )
        x += width
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.15)
    pdf.line(MARGIN, y + 6.4, MARGIN + WIDTH, y + 6.4)
    return y + 6.4


def _records_table(
    pdf: _Certificate, t: Translator, snapshot: CertificateSnapshot, y: float
) -> float:
    widths = [30.0, 58.0, 52.0, 26.0]
    widths[1] += WIDTH - sum(widths)
    labels = [
        t.gettext("Date"),
        t.gettext("Activity"),
        t.gettext("Recording unit"),
        t.gettext("Hours"),
    ]
    y = _header(pdf, list(zip(labels, widths, strict=True)), y)
    for number, line in enumerate(snapshot.lines):
        y = _row(
            pdf,
            [
                (line.day.isoformat(), widths[0], "C"),
                (line.activity, widths[1], "L"),
                (line.unit, widths[2], "L"),
                (hours(t, line.minutes), widths[3], "R"),
            ],
            y,
            shaded=number % 2 == 1,
        )
    return y


def _units_table(pdf: _Certificate, t: Translator, totals: list[UnitTotal], y: float) -> float:
    widths = [70.0, 22.0, 26.0, 48.0]
    widths[0] += WIDTH - sum(widths)
    labels = [
        t.gettext("Recording unit"),
        t.gettext("Records"),
        t.gettext("Hours"),
        t.gettext("Dates"),
    ]
    y = _header(pdf, list(zip(labels, widths, strict=True)), y)
    shown = totals[: TABLE_ROWS - 1] if len(totals) > TABLE_ROWS else totals
    for number, total in enumerate(shown):
        y = _row(
            pdf,
            [
                (total.unit, widths[0], "L"),
                (str(total.records), widths[1], "C"),
                (hours(t, total.minutes), widths[2], "R"),
                (f"{total.first.isoformat()} – {total.last.isoformat()}", widths[3], "C"),
            ],
            y,
            shaded=number % 2 == 1,
        )
    rest = totals[len(shown) :]
    if rest:
        y = _row(
            pdf,
            [
                (
                    t.ngettext("{n} more unit", "{n} more units", len(rest)).format(n=len(rest)),
                    widths[0],
                    "L",
                ),
                (str(sum(x.records for x in rest)), widths[1], "C"),
                (hours(t, sum(x.minutes for x in rest)), widths[2], "R"),
                ("", widths[3], "C"),
            ],
            y,
            shaded=len(shown) % 2 == 1,
        )
    return y
