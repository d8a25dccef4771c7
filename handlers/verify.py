"""Verifying a certificate — for anyone, registered or not — and revoking one (administrators).

```mermaid
flowchart LR
    qr["QR: /start cv_CODE"] --> check{service.verify}
    cmd["/verify CODE"] --> check
    check -->|issued| valid[Masked name, hours, issuer, date: valid]
    check -->|revoked| revoked[… revoked on date]
    check -->|unknown or forged| none[Not found, nothing else]
    check -->|too many unknown codes| wait[Try again after …]
    valid -->|administrator: cert.rv id, take| why((flow certificate_revoke: reason))
    admin["/certificates (administrators)"] -->|cert.adm page / cert.as id| one[One certificate]
    one -->|cert.rv id| why
    why -->|valid: release| done[Revoked; holder told]
```

The answer says only what Art. 16 allows a verifier to learn: the masked name, the hours, the
issuer, the issue date and the status. Administrators see the number too, and a revoke button.
An unknown code counts against the sender (``verification_attempts``); after
``VERIFY_MAX_FAILURES`` in ``VERIFY_WINDOW`` they are refused until the block ends.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.certificates import Certificate, Verification
from bot.domain.flows import FlowOwner
from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from handlers.certificate_buttons import CertAdminList, CertAdminShow, CertRevoke
from handlers.certificates import STATUS_LABELS, TEXTS, certificate_line, hours_label, period_label
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import answer_refusal, refusing
from handlers.render import answer, html, send, show

REVOKE_FLOW = "certificate_revoke"


def verification_text(t: Translator, found: Verification, *, admin: bool) -> str:
    if found.valid:
        head = t.gettext("✅ <b>Valid certificate of volunteer service</b>")
        status = t.gettext("valid")
    else:
        head = t.gettext("⛔ <b>Revoked certificate</b>")
        status = t.gettext("revoked on {day}").format(
            day=t.format_date(found.revoked_at or found.issued_at, "long")
        )
    lines = [
        head,
        t.labelled(t.gettext("Name"), html(found.masked_name)),
        t.labelled(t.gettext("Service hours"), hours_label(t, found.total_minutes)),
        t.labelled(t.pgettext("certificate", "Issued by"), html(found.issuer_name)),
        t.labelled(t.gettext("Issue date"), t.format_date(found.issued_at, "long")),
        t.labelled(t.gettext("Status"), status),
    ]
    if admin:
        lines.append(t.labelled(t.gettext("Number"), html(found.number)))
    return "\n".join(lines)


async def verify(update: Update, context: ZyContext, text: str) -> None:
    """Answer a code (from the deep link or ``/verify``). Refusals (too many tries) are
    answered by the caller's wrapper."""
    t = context.t
    certificates = context.services.certificates
    found, certificate_id = await certificates.verify(context.user.telegram_id, text)
    if found is None or certificate_id is None:
        await send(update, t.gettext("❓ No certificate was found for this code."))
        return
    admin = await certificates.is_admin(context.user.telegram_id)
    markup = None
    if admin and found.valid:
        markup = InlineKeyboardMarkup([[CertRevoke(certificate_id).button(t.gettext("⛔ Revoke"))]])
    await send(update, verification_text(t, found, admin=admin), markup)


async def on_link(update: Update, context: ZyContext, code: str) -> None:
    """``/start cv_<code>`` (handlers.start routes it here)."""
    try:
        await verify(update, context, code)
    except Refused as error:
        await answer_refusal(update, context, error, TEXTS)


@refusing(TEXTS)
async def on_verify(update: Update, context: ZyContext) -> None:
    text = " ".join(context.args or [])
    if not text.strip():
        await send(
            update,
            context.t.gettext(
                "Send /verify followed by the code printed under the QR code of the "
                "certificate, e.g. <code>/verify AbC123…</code>."
            ),
        )
        return
    await verify(update, context, text)


# -- administrators --------------------------------------------------------------------------------


def admin_certificate_text(t: Translator, certificate: Certificate) -> str:
    lines = [certificate_line(t, certificate)]
    if certificate.masked_name:
        lines.append(t.labelled(t.gettext("Name"), html(certificate.masked_name)))
    if certificate.issued_at is not None:
        lines.append(t.labelled(t.gettext("Issue date"), t.format_date(certificate.issued_at)))
    lines.append(t.labelled(t.gettext("Period"), period_label(t, certificate.period)))
    if certificate.revoke_reason:
        lines.append(t.gettext("Revoked: {reason}").format(reason=html(certificate.revoke_reason)))
    return "\n".join(lines)


async def show_admin_list(update: Update, context: ZyContext, page: int) -> None:
    t = context.t
    found = await context.services.certificates.admin_list(context.user.telegram_id, page)
    shown = found[:8]
    lines = [
        t.gettext("📜 <b>Certificates issued</b>"),
        t.gettext(
            "Open one to revoke it, or send /certificates with a number (ZY-2026-000123) or a "
            "verification code to find it."
        ),
        "",
    ]
    if not shown:
        lines.append(t.gettext("No certificates yet."))
    rows: list[list[InlineKeyboardButton]] = [
        [
            CertAdminShow(c.certificate_id).button(
                " · ".join(
                    (c.number or "", c.masked_name or "", t.gettext(STATUS_LABELS[c.status]))
                )[:60]
            )
        ]
        for c in shown
    ]
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(CertAdminList(page - 1).button("⬅️"))
    if len(found) > len(shown):
        nav.append(CertAdminList(page + 1).button("➡️"))
    if nav:
        rows.append(nav)
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None)


async def show_admin_certificate(
    update: Update, context: ZyContext, certificate: Certificate
) -> None:
    t = context.t
    rows = [[CertAdminList(0).button(t.gettext("⬅️ Certificates"))]]
    if certificate.is_valid:
        rows.insert(0, [CertRevoke(certificate.certificate_id).button(t.gettext("⛔ Revoke"))])
    await show(update, admin_certificate_text(t, certificate), InlineKeyboardMarkup(rows))


@refusing(TEXTS)
async def on_admin_command(update: Update, context: ZyContext) -> None:
    text = " ".join(context.args or []).strip()
    if not text:
        await show_admin_list(update, context, 0)
        return
    found = await context.services.certificates.admin_find(context.user.telegram_id, text)
    if found is None:
        await send(update, context.t.gettext("No certificate has that number or code."))
        return
    await show_admin_certificate(update, context, found)


async def on_admin_list(update: Update, context: ZyContext, press: CertAdminList) -> None:
    await answer(update)
    await show_admin_list(update, context, press.page)


async def on_admin_show(update: Update, context: ZyContext, press: CertAdminShow) -> None:
    certificate = await context.services.certificates.admin_get(
        context.user.telegram_id, press.certificate_id
    )
    await answer(update)
    await show_admin_certificate(update, context, certificate)


async def on_revoke(update: Update, context: ZyContext, press: CertRevoke) -> None:
    certificate = await context.services.certificates.admin_get(
        context.user.telegram_id, press.certificate_id
    )
    t = context.t
    if not certificate.is_valid:
        await answer(update, t.gettext("This certificate is not valid (revoked or not issued)."))
        return
    await answer(update)
    await take(context, REVOKE_FLOW, "reason", {"certificate": certificate.certificate_id})
    await send(
        update,
        t.gettext(
            "Revoke certificate {number}? Send the reason (2 to 200 characters): the holder "
            "will read it. Send /cancel to keep it valid."
        ).format(number=html(certificate.number or "")),
    )


async def on_revoke_reason(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    certificate_id = owner.int_state("certificate")
    if message is None or not message.text or certificate_id is None:
        return
    t = context.t
    try:
        revoked = await context.services.certificates.revoke(
            context.user.telegram_id, certificate_id, message.text
        )
    except InvalidInput:
        await send(update, t.gettext("Please send a reason of 2 to 200 characters."))
        return
    except Refused as error:
        await release(context, REVOKE_FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, REVOKE_FLOW)
    await send(
        update,
        t.gettext("⛔ Certificate {number} is revoked; the holder is told.").format(
            number=html(revoked.number or "")
        ),
    )


async def on_revoke_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, REVOKE_FLOW)
    await send(update, context.t.gettext("The certificate stays valid."))


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


PRESSES: PressTable = {
    CertAdminList: on_admin_list,
    CertAdminShow: on_admin_show,
    CertRevoke: on_revoke,
}

FLOWS = [Flow(REVOKE_FLOW, on_text=on_revoke_reason, on_cancel=on_revoke_cancel, on_other=on_other)]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("verify", on_verify))
    application.add_handler(CommandHandler("certificates", on_admin_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
