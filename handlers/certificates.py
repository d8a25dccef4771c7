"""A volunteer's certificates (证明出具, 民政部令第67号 Art. 14–17), and the recording unit's
approval when ``CERTIFICATE_APPROVAL`` is on.

```mermaid
flowchart LR
    cmd["/certificate or 📜 in /hours"] --> menu[My certificates + which records?]
    menu -->|cert.ask all / this / last| issue{service}
    menu -->|cert.ask dates: take| dates((flow certificate_period: two dates))
    dates -->|valid: release| issue
    dates -->|/cancel| menu
    issue -->|issued or the same valid one| pdf[The PDF arrives]
    issue -->|approval on| waiting[Request sent; managers told]
    menu -->|cert.get id| pdf
    waiting -->|outbox| managers[Managers: Approve / Reject]
    managers -->|cert.ok id| issued[Issued; volunteer told, cert.get button]
    managers -->|cert.no id: take| why((flow certificate_reject: reason))
    why -->|valid: release| rejected[Rejected; volunteer told with the reason]
```

Free of charge (Art. 14): nothing here asks for anything but the period. A certificate is read
only through the presser's own volunteer id, so a forged id sends nothing.
"""

from __future__ import annotations

import asyncio
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext
from bot.delivery import Rendered
from bot.domain.certificates import (
    Certificate,
    CertificateDocument,
    CertificateRefusal,
    CertificateRefused,
    CertificateSnapshot,
    CertificateStatus,
    Period,
    split_period,
    verification_link,
)
from bot.domain.dateparse import parse_day
from bot.domain.flows import FlowOwner
from bot.domain.hours import format_hours
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from handlers.certificate_buttons import (
    CertApprove,
    CertAsk,
    CertGet,
    CertMenu,
    CertReject,
    CertScope,
)
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import RefusalTexts, answer_refusal, refusing
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS

PERIOD_FLOW = "certificate_period"
REJECT_FLOW = "certificate_reject"

CERTIFICATE_REFUSALS: dict[StrEnum, str] = {
    CertificateRefusal.NOT_VOLUNTEER: N_(
        "Certificates are for registered volunteers: please register first (/register)."
    ),
    CertificateRefusal.NO_RECORDS: N_(
        "There are no confirmed service records in that period, so there is nothing to certify yet."
    ),
    CertificateRefusal.PENDING: N_(
        "Your earlier request is still waiting for the organization's approval. You will be "
        "told as soon as it is decided."
    ),
    CertificateRefusal.NOT_YOURS: N_("This button is no longer valid."),
    CertificateRefusal.DECIDED: N_("This request has already been decided."),
    CertificateRefusal.NOT_ISSUED: N_("This certificate is not valid (revoked or not issued)."),
    CertificateRefusal.TOO_MANY_TRIES: N_(
        "Too many unknown codes in a short time. Please try again after {when}."
    ),
}

TEXTS = RefusalTexts(STAFF_REFUSALS, CERTIFICATE_REFUSALS)

STATUS_LABELS = {
    CertificateStatus.REQUESTED: N_("waiting for approval"),
    CertificateStatus.ISSUED: N_("valid"),
    CertificateStatus.REVOKED: N_("revoked"),
    CertificateStatus.REJECTED: N_("rejected"),
}


def hours_label(t: Translator, minutes: int) -> str:
    return t.gettext("{hours} h").format(hours=format_hours(minutes))


def period_label(t: Translator, period: Period) -> str:
    if period.start is None or period.end is None:
        return t.gettext("all records")
    return t.gettext("{start} – {end}").format(
        start=t.format_date(period.start, "long"), end=t.format_date(period.end, "long")
    )


def certificate_line(t: Translator, certificate: Certificate) -> str:
    status = t.gettext(STATUS_LABELS[certificate.status])
    head = html(certificate.number) if certificate.number else t.gettext("Request")
    parts = [f"<b>{head}</b>", period_label(t, certificate.period)]
    if certificate.snapshot is not None:
        parts.append(hours_label(t, certificate.snapshot.total_minutes))
    parts.append(status)
    return " · ".join(parts)


# -- the volunteer's screen ----------------------------------------------------------------------


async def show_menu(update: Update, context: ZyContext, *, new_message: bool = False) -> None:
    t = context.t
    services = context.services
    mine = await services.certificates.mine(context.user.telegram_id)
    year = services.certificates.today().year
    lines = [
        t.gettext("📜 <b>Certificates of volunteer service</b>"),
        t.gettext(
            "A certificate shows your confirmed service hours, the service content and the "
            "recording units, with a code anyone can verify. It is free."
        ),
    ]
    if services.certificates.approval_required:
        lines.append(
            t.gettext("The recording organization approves each certificate before it is issued.")
        )
    if mine:
        lines += ["", t.gettext("<b>Your certificates</b>")]
        lines += [certificate_line(t, certificate) for certificate in mine]
    lines += ["", t.gettext("Which records should the new certificate cover?")]
    rows: list[list[InlineKeyboardButton]] = [
        [CertAsk(CertScope.ALL).button(t.gettext("All my records"))],
        [
            CertAsk(CertScope.THIS_YEAR).button(t.gettext("This year ({year})").format(year=year)),
            CertAsk(CertScope.LAST_YEAR).button(
                t.gettext("Last year ({year})").format(year=year - 1)
            ),
        ],
        [CertAsk(CertScope.DATES).button(t.gettext("📅 Choose dates"))],
    ]
    rows += [
        [CertGet(c.certificate_id).button(t.gettext("📄 {number}").format(number=c.number))]
        for c in mine
        if c.status is CertificateStatus.ISSUED and c.number
    ][:4]
    markup = InlineKeyboardMarkup(rows)
    if new_message:
        await send(update, "\n".join(lines), markup)
    else:
        await show(update, "\n".join(lines), markup)


@refusing(TEXTS)
async def on_command(update: Update, context: ZyContext) -> None:
    await show_menu(update, context, new_message=True)


async def on_menu(update: Update, context: ZyContext, press: CertMenu) -> None:
    await answer(update)
    await show_menu(update, context, new_message=True)


async def on_ask(update: Update, context: ZyContext, press: CertAsk) -> None:
    t = context.t
    certificates = context.services.certificates
    year = certificates.today().year
    if press.scope is CertScope.DATES:
        await certificates.mine(context.user.telegram_id)  # refuses a non-volunteer now
        await answer(update)
        await take(context, PERIOD_FLOW, "dates")
        await send(
            update,
            t.gettext(
                "Send the first and the last day of the period, e.g. <code>2026-03-01 "
                "2026-08-31</code>, or /cancel."
            ),
        )
        return
    period = {
        CertScope.ALL: Period(),
        CertScope.THIS_YEAR: Period.year(year),
        CertScope.LAST_YEAR: Period.year(year - 1),
    }[press.scope]
    waits = certificates.approval_required
    await answer(update, None if waits else t.gettext("Preparing your certificate…"))
    await request(update, context, period)


async def request(update: Update, context: ZyContext, period: Period) -> None:
    """Ask the service; send the PDF, or say the request waits for approval."""
    t = context.t
    certificate, _fresh = await context.services.certificates.request(
        context.user.telegram_id, period, t.language
    )
    if certificate is None:
        await send(
            update,
            t.gettext(
                "✉️ Your request was sent to the recording organization for approval. You will "
                "be told as soon as it is decided."
            ),
        )
        return
    document = await context.services.certificates.document(
        context.user.telegram_id, certificate.certificate_id
    )
    await send_pdf(update, context, document)


async def send_pdf(update: Update, context: ZyContext, document: CertificateDocument) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    pdf = await pdf_bytes(context, document)
    t = context.services.translator(document.certificate.language)
    caption = "\n".join(
        (
            t.gettext("📜 Certificate {number}").format(number=html(document.number)),
            t.gettext("{hours} · {period}").format(
                hours=hours_label(t, document.snapshot.total_minutes),
                period=period_label(t, document.certificate.period),
            ),
            t.gettext("Anyone can check it: /verify {code}").format(code=document.certificate.code),
        )
    )
    await chat.send_document(
        document=InputFile(pdf, filename=f"{document.number}.pdf"),
        caption=caption,
        parse_mode=ParseMode.HTML,
    )


async def pdf_bytes(context: ZyContext, document: CertificateDocument) -> bytes:
    """Drawn in a worker thread: fpdf2 subsets the font for about half a second, which must not
    hold up other users' updates."""
    # fpdf2 and segno load when the first certificate is drawn, not at every start-up.
    from bot.certificate_pdf import render

    services = context.services
    t = services.translator(document.certificate.language)
    link = verification_link(context.bot.username, document.certificate.code)
    return await asyncio.to_thread(render, document, t, link, services.settings.certificate_font)


async def on_get(update: Update, context: ZyContext, press: CertGet) -> None:
    document = await context.services.certificates.document(
        context.user.telegram_id, press.certificate_id
    )
    await answer(update, context.t.gettext("Preparing your certificate…"))
    await send_pdf(update, context, document)


async def on_dates(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    t = context.t
    certificates = context.services.certificates
    today = certificates.today()
    parts = split_period(message.text)
    days = [parse_day(part, today, latest=True) for part in parts] if parts else []
    start, end = [*days, None, None][:2]
    if not isinstance(start, date) or not isinstance(end, date):
        await send(
            update,
            t.gettext(
                "Please send two dates, the first and the last day, e.g. <code>2026-03-01 "
                "2026-08-31</code>."
            ),
        )
        return
    if start > end:
        start, end = end, start
    if end > today:
        end = today
    if start > end:
        await send(update, t.gettext("That period is in the future. Please send past dates."))
        return
    await release(context, PERIOD_FLOW)
    try:
        await request(update, context, Period(start, end))
    except Refused as error:
        await answer_refusal(update, context, error, TEXTS)


async def on_period_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, PERIOD_FLOW)
    await send(update, context.t.gettext("No certificate was requested."))


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


# -- the managers' decision ----------------------------------------------------------------------


async def request_text(t: Translator, services: Services, certificate: Certificate) -> str:
    name, snapshot = await services.certificates.request_summary(certificate)
    return decision_text(t, certificate, name, snapshot)


def decision_text(
    t: Translator, certificate: Certificate, name: str, snapshot: CertificateSnapshot
) -> str:
    lines = [
        t.gettext("📜 <b>Certificate request</b>"),
        t.gettext("{name} asks for a certificate of volunteer service.").format(name=html(name)),
        t.labelled(t.gettext("Period"), period_label(t, certificate.period)),
        t.labelled(
            t.gettext("Confirmed hours"),
            t.ngettext(
                "{hours} in {n} record", "{hours} in {n} records", snapshot.record_count
            ).format(hours=hours_label(t, snapshot.total_minutes), n=snapshot.record_count),
        ),
        t.labelled(
            t.gettext("Recording unit(s)"), html(t.gettext(", ").join(snapshot.recording_units))
        ),
    ]
    if certificate.status is CertificateStatus.ISSUED and certificate.number:
        lines += [
            "",
            t.gettext("✅ Approved: certificate {number} issued.").format(
                number=html(certificate.number)
            ),
        ]
    elif certificate.status is CertificateStatus.REJECTED:
        lines += [
            "",
            t.gettext("❌ Rejected. Reason: {reason}").format(
                reason=html(certificate.reject_reason or "—")
            ),
        ]
    elif certificate.status is not CertificateStatus.REQUESTED:
        lines += ["", t.gettext(STATUS_LABELS[certificate.status])]
    return "\n".join(lines)


def decide_markup(t: Translator, certificate_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                CertApprove(certificate_id).button(t.gettext("✅ Approve")),
                CertReject(certificate_id).button(t.gettext("❌ Reject")),
            ]
        ]
    )


async def on_approve(update: Update, context: ZyContext, press: CertApprove) -> None:
    certificates = context.services.certificates
    issued = await certificates.approve(context.user.telegram_id, press.certificate_id)
    t = context.t
    await answer(update, t.gettext("Approved."))
    await show(update, await request_text(t, context.services, issued))


async def on_reject(update: Update, context: ZyContext, press: CertReject) -> None:
    certificate = await context.services.certificates.for_decision(
        context.user.telegram_id, press.certificate_id
    )
    t = context.t
    if certificate.status is not CertificateStatus.REQUESTED:
        raise CertificateRefused(CertificateRefusal.DECIDED)
    await answer(update)
    await take(context, REJECT_FLOW, "reason", {"certificate": certificate.certificate_id})
    await send(
        update,
        t.gettext(
            "Why is the request rejected? The volunteer will read your reason (2 to 200 "
            "characters). Send /cancel to go back."
        ),
    )


async def on_reject_reason(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    certificate_id = owner.int_state("certificate")
    if message is None or not message.text or certificate_id is None:
        return
    t = context.t
    try:
        rejected = await context.services.certificates.reject(
            context.user.telegram_id, certificate_id, message.text
        )
    except InvalidInput:
        await send(update, t.gettext("Please send a reason of 2 to 200 characters."))
        return
    except Refused as error:
        await release(context, REJECT_FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, REJECT_FLOW)
    await send(update, await request_text(t, context.services, rejected))


async def on_reject_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, REJECT_FLOW)
    certificate_id = owner.int_state("certificate")
    if certificate_id is None:
        return
    certificate = await context.services.certificates.get(certificate_id)
    t = context.t
    if certificate is not None and certificate.status is CertificateStatus.REQUESTED:
        await send(
            update,
            await request_text(t, context.services, certificate),
            decide_markup(t, certificate_id),
        )


# -- notifications -------------------------------------------------------------------------------


async def render_requested(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    certificate_id = item.payload.get("certificate")
    if not isinstance(certificate_id, int):
        return None
    certificate = await services.certificates.get(certificate_id)
    if certificate is None or certificate.status is not CertificateStatus.REQUESTED:
        return None  # decided meanwhile (by another manager)
    text = await request_text(t, services, certificate)
    return Rendered(text, decide_markup(t, certificate_id))


async def render_decided(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    certificate_id = item.payload.get("certificate")
    if not isinstance(certificate_id, int):
        return None
    certificate = await services.certificates.get(certificate_id)
    if certificate is None:
        return None
    if certificate.status is CertificateStatus.ISSUED and certificate.number:
        text = t.gettext("📜 Your certificate {number} ({period}) was approved and issued.").format(
            number=html(certificate.number), period=period_label(t, certificate.period)
        )
        markup = InlineKeyboardMarkup(
            [[CertGet(certificate_id).button(t.gettext("📄 Get the PDF"))]]
        )
        return Rendered(text, markup)
    if certificate.status is CertificateStatus.REJECTED:
        text = t.gettext(
            "Your certificate request ({period}) was not approved. Reason: {reason}"
        ).format(
            period=period_label(t, certificate.period),
            reason=html(certificate.reject_reason or "—"),
        )
        return Rendered(
            text, InlineKeyboardMarkup([[CertMenu().button(t.gettext("📜 Certificates"))]])
        )
    return None


async def render_revoked(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    certificate_id = item.payload.get("certificate")
    if not isinstance(certificate_id, int):
        return None
    certificate = await services.certificates.get(certificate_id)
    if certificate is None or certificate.status is not CertificateStatus.REVOKED:
        return None
    text = t.gettext(
        "⛔ Your certificate {number} was revoked by an administrator on {day}. Reason: {reason}"
    ).format(
        number=html(certificate.number or "—"),
        day=t.format_date(certificate.revoked_at or item.due_at, "long"),
        reason=html(certificate.revoke_reason or "—"),
    )
    return Rendered(text, InlineKeyboardMarkup([[CertMenu().button(t.gettext("📜 Certificates"))]]))


RENDERERS: Renderers = {
    NotificationKind.CERTIFICATE_REQUESTED: render_requested,
    NotificationKind.CERTIFICATE_DECIDED: render_decided,
    NotificationKind.CERTIFICATE_REVOKED: render_revoked,
}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


PRESSES: PressTable = {
    CertMenu: on_menu,
    CertAsk: on_ask,
    CertGet: on_get,
    CertApprove: on_approve,
    CertReject: on_reject,
}

FLOWS = [
    Flow(PERIOD_FLOW, on_text=on_dates, on_cancel=on_period_cancel, on_other=on_other),
    Flow(REJECT_FLOW, on_text=on_reject_reason, on_cancel=on_reject_cancel, on_other=on_other),
]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("certificate", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
