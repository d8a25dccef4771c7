"""The administrator panel (``/admin``): applications, organizations, administrators and the
reference lists. Every press re-checks that the presser is an administrator (and the domain
service checks again); a forged ``adm:`` press gets a refusal and changes nothing.

```mermaid
stateDiagram-v2
    [*] --> Panel: /admin · adm:home
    Panel --> Pending: adm:pend
    Pending --> Org: adm:o:<id>
    Org --> Panel: adm:ap (approve)
    Org --> TYPING: adm:rj (reject) · adm:sus (suspend) → type a reason
    Org --> Org: adm:rei (reinstate)
    Panel --> Orgs: adm:orgs:<page> --> Org
    Panel --> Admins: adm:admins
    Admins --> TYPING: adm:appoint → type an id or @username
    Admins --> Admins: adm:rmadm:<id>
    Panel --> Lists: adm:cat --> List: adm:cl:<kind> --> Item: adm:ci
    List --> TYPING: adm:cadd → "code | 中文 | English"
    Item --> TYPING: adm:crn → "中文 | English"
    Item --> Item: adm:cact (deactivate / reactivate)
    TYPING --> Panel: valid text (done) · /cancel
    TYPING --> TYPING: invalid text (told why)
```
TYPING is the ``admin`` flow owning the typed input (:mod:`handlers.flows`), with what the
text is for in its state; any panel press gives the input back.
The panel also links 🗓 Key dates (``kd:list``, handlers.campaigns) and 📣 Broadcast
(``bc:new``, handlers.broadcast).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import OrganizationStatus
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.users import User
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import CatalogKind
from bot.i18n import N_, Translator
from bot.services.organizations import (
    PAGE_SIZE,
    AlreadyDecided,
    OrganizationAdminService,
    OrgRefused,
)
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.callbacks import button, button_rows, parse_id, parse_page, parse_telegram_id, split
from handlers.commands import publish_menu
from handlers.flows import Flow, release, take
from handlers.organize import STATUS_LABELS, describe, refusal_text
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

MAX_PAGE = 9999

KIND_LABELS: dict[CatalogKind, str] = {
    CatalogKind.AREA: N_("Areas"),
    CatalogKind.SKILL: N_("Skills"),
    CatalogKind.CATEGORY: N_("Service categories"),
}


def service(context: ZyContext) -> OrganizationAdminService:
    return context.services.org_admin


def _back(t: Translator, *data: str | int) -> list[InlineKeyboardButton]:
    return [button(t.gettext("⬅️ Back"), *(data or ("adm", "home")))]


def _person(user: User | None, telegram_id: int) -> str:
    if user is None:
        return str(telegram_id)
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    if user.username:
        name += f" (@{user.username})"
    return f"{name} · {telegram_id}"


async def _clear_input(context: ZyContext) -> None:
    """Typed text is no longer for the admin panel (done, refused or moved on)."""
    await release(context, ADMIN_FLOW)


# ------------------------------------------------------------------------------ screens


async def panel(update: Update, context: ZyContext, notice: str | None = None) -> object:
    t = context.t
    _, pending = await service(context).pending_applications(context.user.telegram_id)
    text = t.gettext("🛠 <b>Administrator panel</b>")
    if notice:
        text = f"{notice}\n\n{text}"
    rows = [
        [button(t.gettext("📥 Applications ({count})").format(count=pending), "adm", "pend", 0)],
        [button(t.gettext("🏢 Organizations"), "adm", "orgs", 0)],
        [button(t.gettext("👮 Administrators"), "adm", "admins")],
        [button(t.gettext("📚 Areas, skills and categories"), "adm", "cat")],
        [
            button(t.gettext("🗓 Key dates"), "kd", "list"),
            button(t.gettext("📣 Broadcast"), "bc", "new"),
        ],
        [button(t.gettext("🏠 Main menu"), "menu", "home")],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))
    await _clear_input(context)
    return None


async def org_list(update: Update, context: ZyContext, pending: bool, page: int) -> object:
    t = context.t
    svc = service(context)
    uid = context.user.telegram_id
    if pending:
        found, total = await svc.pending_applications(uid, page)
        title = t.gettext("📥 <b>Applications waiting for review</b> ({count})").format(count=total)
    else:
        found, total = await svc.organizations(uid, page)
        title = t.gettext("🏢 <b>Organizations</b> ({count})").format(count=total)
    rows = [
        [
            button(
                " · ".join((organization.name, t.gettext(STATUS_LABELS[organization.status]))),
                "adm",
                "o",
                organization.organization_id,
            )
        ]
        for organization in found
    ]
    if not found:
        title += "\n\n" + t.gettext("Nothing here.")
    action = "pend" if pending else "orgs"
    paging = []
    if page > 0:
        paging.append(button(t.gettext("◀️ Previous"), "adm", action, page - 1))
    if (page + 1) * PAGE_SIZE < total:
        paging.append(button(t.gettext("Next ▶️"), "adm", action, page + 1))
    if paging:
        rows.append(paging)
    rows.append(_back(t))
    await show(update, title, InlineKeyboardMarkup(rows))
    return None


async def org_detail(
    update: Update, context: ZyContext, oid: int, notice: str | None = None
) -> object:
    t = context.t
    details = await service(context).application(context.user.telegram_id, oid)
    organization = details.organization
    text = await describe(context.services, t, organization)
    if details.status_reason and organization.status in (
        OrganizationStatus.REJECTED,
        OrganizationStatus.SUSPENDED,
    ):
        text += "\n\n" + t.gettext("Reason: {reason}").format(reason=html(details.status_reason))
    if notice:
        text = f"{notice}\n\n{text}"
    rows = []
    if organization.status is OrganizationStatus.PENDING:
        rows.append(
            [
                button(t.gettext("✅ Approve"), "adm", "ap", oid),
                button(t.gettext("❌ Reject"), "adm", "rj", oid),
            ]
        )
    elif organization.status is OrganizationStatus.APPROVED:
        rows.append([button(t.gettext("⛔ Suspend"), "adm", "sus", oid)])
    elif organization.status is OrganizationStatus.SUSPENDED:
        rows.append([button(t.gettext("♻️ Reinstate"), "adm", "rei", oid)])
    back_to = "pend" if organization.status is OrganizationStatus.PENDING else "orgs"
    rows.append(_back(t, "adm", back_to, 0))
    await show(update, text, InlineKeyboardMarkup(rows))
    return None


async def admins_screen(update: Update, context: ZyContext, notice: str | None = None) -> object:
    t = context.t
    svc = service(context)
    uid = context.user.telegram_id
    lines = [t.gettext("👮 <b>Administrators</b>"), ""]
    rows = []
    for admin_id, user in await svc.admins(uid):
        fixed = svc.is_fixed_admin(admin_id)
        mark = " 🔒" if fixed else ""
        lines.append(f"• {html(_person(user, admin_id))}{mark}")
        if not fixed and admin_id != uid:
            label = t.gettext("➖ Remove {name}").format(name=user.first_name if user else admin_id)
            rows.append([button(label, "adm", "rmadm", admin_id)])
    lines += ["", t.gettext("🔒 set in the bot's configuration (ADMIN_IDS)")]
    if notice:
        lines = [notice, "", *lines]
    rows.insert(0, [button(t.gettext("➕ Appoint an administrator"), "adm", "appoint")])
    rows.append(_back(t))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    return None


async def catalog_kinds(update: Update, context: ZyContext) -> object:
    t = context.t
    rows = [
        [button(t.gettext(label), "adm", "cl", kind.value)] for kind, label in KIND_LABELS.items()
    ]
    rows.append(_back(t))
    await show(
        update, t.gettext("📚 Which list would you like to edit?"), InlineKeyboardMarkup(rows)
    )
    return None


async def catalog_list(
    update: Update, context: ZyContext, kind: CatalogKind, notice: str | None = None
) -> object:
    t = context.t
    items = await service(context).catalog_items(context.user.telegram_id, kind)
    language = t.language.value
    buttons = [
        button(
            ("" if item.is_active else "⛔ ") + item.name(language),
            "adm",
            "ci",
            kind.value,
            item.code,
        )
        for item in items
    ]
    rows = button_rows(buttons, 2)
    rows.append([button(t.gettext("➕ Add an entry"), "adm", "cadd", kind.value)])
    rows.append(_back(t, "adm", "cat"))
    text = t.gettext(
        "📚 <b>{list}</b>: tap an entry to rename or deactivate it. ⛔ = not shown to users."
    ).format(list=t.gettext(KIND_LABELS[kind]))
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, InlineKeyboardMarkup(rows))
    return None


async def catalog_item(
    update: Update, context: ZyContext, kind: CatalogKind, code: str, notice: str | None = None
) -> object:
    t = context.t
    item = await service(context).catalog_item(context.user.telegram_id, kind, code)
    state = (
        t.gettext("shown to users")
        if item.is_active
        else t.gettext("deactivated, hidden from users")
    )
    text = (
        f"<b>{html(item.name_zh)}</b> / <b>{html(item.name_en)}</b>\n"
        + t.gettext("Code: {code}").format(code=html(item.code))
        + "\n"
        + t.gettext("Status: {state}").format(state=state)
    )
    if notice:
        text = f"{notice}\n\n{text}"
    toggle = (
        button(t.gettext("⛔ Deactivate"), "adm", "cact", kind.value, code, 0)
        if item.is_active
        else button(t.gettext("♻️ Reactivate"), "adm", "cact", kind.value, code, 1)
    )
    rows = [
        [button(t.gettext("✏️ Rename"), "adm", "crn", kind.value, code)],
        [toggle],
        _back(t, "adm", "cl", kind.value),
    ]
    await show(update, text, InlineKeyboardMarkup(rows))
    return None


async def ask(update: Update, context: ZyContext, prompt: str, **what: str | int) -> object:
    """Ask for typed input; the answer goes to :func:`on_text`."""
    await take(context, ADMIN_FLOW, "input", dict(what))
    t = context.t
    await show(update, prompt + "\n\n" + t.gettext("Send /cancel to stop."), None)
    return None


# ----------------------------------------------------------------------------- handlers


async def enter(update: Update, context: ZyContext) -> object:
    """``/admin``."""
    try:
        await context.services.staff.require_admin(context.user.telegram_id)
    except StaffRefused:
        await send(update, context.t.gettext("Sorry, this is only for administrators."))
        return None
    return await panel(update, context)


def _kind(value: str) -> CatalogKind:
    try:
        return CatalogKind(value)
    except ValueError:
        raise StaffRefused(StaffRefusal.NOT_FOUND) from None


async def on_button(update: Update, context: ZyContext) -> object:
    """Every ``adm:`` press."""
    query = update.callback_query
    parts = split(query.data if query else None)
    action = parts[1] if len(parts) > 1 else ""
    args = parts[2:]
    t = context.t
    uid = context.user.telegram_id
    svc = service(context)
    # A press moves on from any question the panel asked (a screen that asks takes it again).
    await _clear_input(context)

    def number(index: int, parse: Callable[[str], int | None] = parse_id) -> int:
        value = parse(args[index]) if len(args) > index else None
        if value is None:
            raise StaffRefused(StaffRefusal.NOT_FOUND)
        return value

    def page(text: str) -> int | None:
        return parse_page(text, MAX_PAGE)

    try:
        await context.services.staff.require_admin(uid)
        await _clear_input(context)
        if action == "home":
            await answer(update)
            return await panel(update, context)
        if action in ("pend", "orgs"):
            shown = number(0, page)
            await answer(update)
            return await org_list(update, context, action == "pend", shown)
        if action == "o":
            oid = number(0)
            await answer(update)
            return await org_detail(update, context, oid)
        if action == "ap":
            oid = number(0)
            organization = await svc.approve(uid, oid)
            await answer(update, t.gettext("Approved."))
            nudge_outbox(context)
            notice = t.gettext("✅ {name} is approved; the applicant is told.").format(
                name=html(organization.name)
            )
            return await org_detail(update, context, oid, notice=notice)
        if action == "rj":
            oid = number(0)
            details = await svc.ensure_pending(uid, oid)
            await answer(update)
            prompt = t.gettext(
                "Why is <b>{name}</b> rejected? Type the reason; the applicant will see it."
            ).format(name=html(details.organization.name))
            return await ask(update, context, prompt, what="reject", oid=oid)
        if action == "sus":
            oid = number(0)
            details = await svc.ensure_status(uid, oid, OrganizationStatus.APPROVED)
            await answer(update)
            prompt = t.gettext(
                "Why is <b>{name}</b> suspended? Type the reason. Its members lose their "
                "organizer tools until it is reinstated."
            ).format(name=html(details.organization.name))
            return await ask(update, context, prompt, what="suspend", oid=oid)
        if action == "rei":
            oid = number(0)
            organization = await svc.reinstate(uid, oid)
            await answer(update, t.gettext("Reinstated."))
            notice = t.gettext("♻️ {name} is active again.").format(name=html(organization.name))
            return await org_detail(update, context, oid, notice=notice)
        if action == "admins":
            await answer(update)
            return await admins_screen(update, context)
        if action == "appoint":
            await answer(update)
            prompt = t.gettext(
                "Send the Telegram user id (digits) or the @username of the person to appoint. "
                "They must have used this bot before."
            )
            return await ask(update, context, prompt, what="appoint")
        if action == "rmadm":
            target = number(0, parse_telegram_id)
            user = await svc.remove_admin(uid, target)
            await answer(update, t.gettext("Removed."))
            await _refresh_commands(context, user)
            notice = t.gettext("✅ {name} is no longer an administrator.").format(
                name=html(user.first_name)
            )
            return await admins_screen(update, context, notice=notice)
        if action == "cat":
            await answer(update)
            return await catalog_kinds(update, context)
        if action == "cl" and args:
            kind = _kind(args[0])
            await answer(update)
            return await catalog_list(update, context, kind)
        if action == "ci" and len(args) == 2:
            kind = _kind(args[0])
            await answer(update)
            return await catalog_item(update, context, kind, args[1])
        if action == "cadd" and args:
            kind = _kind(args[0])
            await answer(update)
            prompt = t.gettext(
                "New entry for <b>{list}</b>: send code | 中文名 | English name, for example "
                "first_aid | 急救 | First aid. The code is permanent (lowercase letters, "
                "digits, _)."
            ).format(list=t.gettext(KIND_LABELS[kind]))
            return await ask(update, context, prompt, what="add", kind=kind.value)
        if action == "crn" and len(args) == 2:
            kind = _kind(args[0])
            item = await svc.catalog_item(uid, kind, args[1])
            await answer(update)
            prompt = t.gettext(
                "New names for <b>{zh}</b> / <b>{en}</b>: send 中文名 | English name."
            ).format(zh=html(item.name_zh), en=html(item.name_en))
            return await ask(
                update, context, prompt, what="rename", kind=kind.value, code=item.code
            )
        if action == "cact" and len(args) == 3 and args[2] in ("0", "1"):
            kind = _kind(args[0])
            item = await svc.set_catalog_item_active(uid, kind, args[1], args[2] == "1")
            await answer(update)
            notice = t.gettext("✅ Saved.")
            return await catalog_item(update, context, kind, item.code, notice=notice)
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return None
    except AlreadyDecided as error:
        await answer(update, _already_text(t, error), alert=True)
        return await org_detail(update, context, error.details.organization.organization_id)
    except OrgRefused as error:
        await answer(update, refusal_text(t, error), alert=True)
        return None


def _already_text(t: Translator, error: AlreadyDecided) -> str:
    who = error.decided_by.first_name if error.decided_by else t.gettext("another administrator")
    status = t.gettext(STATUS_LABELS[error.details.organization.status])
    return t.gettext("This application was already decided by {who}: {status}.").format(
        who=who, status=status
    )


async def _refresh_commands(context: ZyContext, user: User) -> None:
    """An appointment or removal changes what the person may do: their menu follows now."""
    services = context.services
    t = services.translator(services.accounts.language_of(user))
    await publish_menu(context, user.telegram_id, t)


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    message = update.effective_message
    what = owner.state
    if message is None or message.text is None:
        return None
    t = context.t
    uid = context.user.telegram_id
    svc = service(context)
    text = message.text
    try:
        await context.services.staff.require_admin(uid)
        kind_value = what.get("kind")
        oid = owner.int_state("oid") or 0  # 0 matches no organization: refused as not found
        if what.get("what") == "reject":
            organization = await svc.reject(uid, oid, text)
            nudge_outbox(context)
            await _clear_input(context)
            notice = t.gettext("❌ {name} is rejected; the applicant is told the reason.").format(
                name=html(organization.name)
            )
            await send(update, notice, InlineKeyboardMarkup([_back(t)]))
            return None
        if what.get("what") == "suspend":
            organization = await svc.suspend(uid, oid, text)
            await _clear_input(context)
            notice = t.gettext("⛔ {name} is suspended.").format(name=html(organization.name))
            await send(update, notice, InlineKeyboardMarkup([_back(t)]))
            return None
        if what.get("what") == "appoint":
            user = await svc.appoint_admin(uid, text)
            await _clear_input(context)
            await _refresh_commands(context, user)
            notice = t.gettext("✅ {name} is now an administrator.").format(
                name=html(_person(user, user.telegram_id))
            )
            await send(update, notice, InlineKeyboardMarkup([_back(t, "adm", "admins")]))
            return None
        if what.get("what") == "add" and isinstance(kind_value, str):
            kind = CatalogKind(kind_value)
            item = await svc.add_catalog_item(uid, kind, text)
            await _clear_input(context)
            notice = t.gettext("✅ Added: {zh} / {en} ({code}).").format(
                zh=html(item.name_zh), en=html(item.name_en), code=html(item.code)
            )
            await send(update, notice, InlineKeyboardMarkup([_back(t, "adm", "cl", kind.value)]))
            return None
        if what.get("what") == "rename" and isinstance(kind_value, str):
            kind = CatalogKind(kind_value)
            item = await svc.rename_catalog_item(uid, kind, str(what.get("code")), text)
            await _clear_input(context)
            notice = t.gettext("✅ Renamed: {zh} / {en}.").format(
                zh=html(item.name_zh), en=html(item.name_en)
            )
            await send(
                update, notice, InlineKeyboardMarkup([_back(t, "adm", "ci", kind.value, item.code)])
            )
            return None
    except InvalidInput as error:
        await send(
            update,
            "⚠️ "
            + error.translate(t.gettext)
            + "\n\n"
            + t.gettext("Please try again, or send /cancel."),
        )
        return None
    except StaffRefused as error:
        await _clear_input(context)
        await refuse_staff(update, context, error)
        return None
    except AlreadyDecided as error:
        await _clear_input(context)
        await send(update, _already_text(t, error), InlineKeyboardMarkup([_back(t)]))
        return None
    except OrgRefused as error:
        await send(
            update,
            "⚠️ "
            + refusal_text(t, error)
            + "\n\n"
            + t.gettext("Please try again, or send /cancel."),
        )
        return None
    await _clear_input(context)
    return None


async def cancel(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    t = context.t
    await send(update, t.gettext("Stopped. Nothing was changed."), InlineKeyboardMarkup([_back(t)]))
    return None


# --------------------------------------------------------------------------- notifications


async def render_application(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    """ORG_APPLICATION to each administrator; stale once decided or if they are no longer admin."""
    oid = item.payload.get("organization_id")
    if not isinstance(oid, int) or not await services.staff.is_admin(item.telegram_id):
        return None
    organization = await services.organizations.get(oid)
    if organization is None or organization.status is not OrganizationStatus.PENDING:
        return None
    card = await describe(services, t, organization)
    text = t.gettext("📥 <b>New organization application</b>") + "\n\n" + card
    markup = InlineKeyboardMarkup(
        [
            [
                button(t.gettext("✅ Approve"), "adm", "ap", oid),
                button(t.gettext("❌ Reject"), "adm", "rj", oid),
            ]
        ]
    )
    return Rendered(text, markup)


# ------------------------------------------------------------------------------- wiring


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("admin", enter))
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^adm:"))


ADMIN_FLOW = "admin"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [Flow(ADMIN_FLOW, on_text=on_text, on_cancel=cancel)]


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ORG_APPLICATION: render_application,
}
