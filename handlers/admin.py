"""The administrator panel (``/admin``): applications, organizations, administrators and the
reference lists. Every press re-checks that the presser is an administrator (and the domain
service checks again); a forged ``adm.`` press gets a refusal and changes nothing.

```mermaid
stateDiagram-v2
    [*] --> Panel: /admin · adm.home
    Panel --> Pending: adm.list (pending)
    Pending --> Org: adm.o:<id>
    Org --> Org: adm.ap (approve) · adm.rei (reinstate)
    Org --> Typing: adm.rj (reject) · adm.sus (suspend) → type a reason
    Panel --> Orgs: adm.list (decided) --> Org
    Panel --> Admins: adm.admins
    Admins --> Typing: adm.appoint → type an id or @username
    Admins --> Admins: adm.rmadm:<id>
    Panel --> Lists: adm.cat --> List: adm.cl:<kind> --> Item: adm.ci:<kind>:<code>
    List --> Typing: adm.cadd → "code | 中文 | English"
    Item --> Typing: adm.crn → "中文 | English"
    Item --> Item: adm.cact:<kind>:<code>:<0|1> (deactivate / reactivate)
    Typing --> [*]: valid text (done; release) · /cancel (release)
    Typing --> Typing: invalid text (told why)
```

Typing is the flow ``admin_input``: it owns the administrator's typed input (``flow_owners``),
and its state says what the text is for (``what``, and the organization or list entry), so a
restart or a second process takes the answer where it was asked. Any other panel press gives
the input back (as the old screen-by-screen panel did). The panel also links 🗓 Key dates
(``handlers.key_dates``) and 📣 Broadcast (``handlers.broadcast``).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import OrganizationStatus
from bot.domain.flows import FlowOwner, FlowState
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
from handlers.broadcast import BcNew
from handlers.callbacks import MenuItem, MenuOpen, Press, button_rows
from handlers.commands import publish_menu
from handlers.flows import Flow, release, take
from handlers.key_dates import KdList
from handlers.organize import STATUS_LABELS, answer_refused, describe, refusal_text
from handlers.press_table import PressTable, press_handlers
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

FLOW = "admin_input"
MAX_PAGE = 9999

KIND_LABELS: dict[CatalogKind, str] = {
    CatalogKind.AREA: N_("Areas"),
    CatalogKind.SKILL: N_("Skills"),
    CatalogKind.CATEGORY: N_("Service categories"),
}


class AdminInput(StrEnum):
    """What the administrator's typed text is for (the flow's ``waiting_for``)."""

    REJECT = "reject"
    SUSPEND = "suspend"
    APPOINT = "appoint"
    ADD = "add"
    RENAME = "rename"


# ------------------------------------------------------------------------------ buttons


class AdmHome(Press, prefix="adm.home"):
    pass


class AdmList(Press, prefix="adm.list"):
    pending: bool  # applications waiting for review, or the decided organizations
    page: int


class AdmOrg(Press, prefix="adm.o"):
    organization_id: int


class AdmApprove(Press, prefix="adm.ap"):
    organization_id: int


class AdmReject(Press, prefix="adm.rj"):
    organization_id: int


class AdmSuspend(Press, prefix="adm.sus"):
    organization_id: int


class AdmReinstate(Press, prefix="adm.rei"):
    organization_id: int


class AdmAdmins(Press, prefix="adm.admins"):
    pass


class AdmAppoint(Press, prefix="adm.appoint"):
    pass


class AdmRemoveAdmin(Press, prefix="adm.rmadm"):
    telegram_id: int


class AdmLists(Press, prefix="adm.cat"):
    pass


class AdmListItems(Press, prefix="adm.cl"):
    kind: CatalogKind


class AdmItem(Press, prefix="adm.ci"):
    kind: CatalogKind
    code: str


class AdmAddItem(Press, prefix="adm.cadd"):
    kind: CatalogKind


class AdmRenameItem(Press, prefix="adm.crn"):
    kind: CatalogKind
    code: str


class AdmItemActive(Press, prefix="adm.cact"):
    kind: CatalogKind
    code: str
    active: bool  # what the pressed button asked for: pressing an old one twice is harmless


# ------------------------------------------------------------------------------ helpers


def service(context: ZyContext) -> OrganizationAdminService:
    return context.services.org_admin


def _back(t: Translator, to: Press | None = None) -> list[InlineKeyboardButton]:
    return [(to or AdmHome()).button(t.gettext("⬅️ Back"))]


def _person(user: User | None, telegram_id: int) -> str:
    if user is None:
        return str(telegram_id)
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    if user.username:
        name += f" (@{user.username})"
    return f"{name} · {telegram_id}"


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


# ------------------------------------------------------------------------------ screens


async def panel(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    _, pending = await service(context).pending_applications(context.user.telegram_id)
    text = t.gettext("🛠 <b>Administrator panel</b>")
    if notice:
        text = f"{notice}\n\n{text}"
    rows = [
        [AdmList(True, 0).button(t.gettext("📥 Applications ({count})").format(count=pending))],
        [AdmList(False, 0).button(t.gettext("🏢 Organizations"))],
        [AdmAdmins().button(t.gettext("👮 Administrators"))],
        [AdmLists().button(t.gettext("📚 Areas, skills and categories"))],
        [KdList().button(t.gettext("🗓 Key dates")), BcNew().button(t.gettext("📣 Broadcast"))],
        [MenuOpen(MenuItem.HOME).button(t.gettext("🏠 Main menu"))],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def org_list(update: Update, context: ZyContext, pending: bool, page: int) -> None:
    t = context.t
    svc = service(context)
    uid = context.user.telegram_id
    if pending:
        found, total = await svc.pending_applications(uid, page)
        title = t.gettext("📥 <b>Applications waiting for review</b> ({count})").format(count=total)
    else:
        found, total = await svc.organizations(uid, page)
        title = t.gettext("🏢 <b>Organizations</b> ({count})").format(count=total)
    rows = []
    for organization in found:
        status = t.gettext(STATUS_LABELS[organization.status])
        label = f"{organization.name} · {status}"
        rows.append([AdmOrg(organization.organization_id).button(label)])
    if not found:
        title += "\n\n" + t.gettext("Nothing here.")
    paging = []
    if page > 0:
        paging.append(AdmList(pending, page - 1).button(t.gettext("◀️ Previous")))
    if (page + 1) * PAGE_SIZE < total and page < MAX_PAGE:
        paging.append(AdmList(pending, page + 1).button(t.gettext("Next ▶️")))
    if paging:
        rows.append(paging)
    rows.append(_back(t))
    await show(update, title, InlineKeyboardMarkup(rows))


async def org_detail(
    update: Update, context: ZyContext, oid: int, notice: str | None = None
) -> None:
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
                AdmApprove(oid).button(t.gettext("✅ Approve")),
                AdmReject(oid).button(t.gettext("❌ Reject")),
            ]
        )
    elif organization.status is OrganizationStatus.APPROVED:
        rows.append([AdmSuspend(oid).button(t.gettext("⛔ Suspend"))])
    elif organization.status is OrganizationStatus.SUSPENDED:
        rows.append([AdmReinstate(oid).button(t.gettext("♻️ Reinstate"))])
    pending = organization.status is OrganizationStatus.PENDING
    rows.append(_back(t, AdmList(pending, 0)))
    await show(update, text, InlineKeyboardMarkup(rows))


async def admins_screen(update: Update, context: ZyContext, notice: str | None = None) -> None:
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
            rows.append([AdmRemoveAdmin(admin_id).button(label)])
    lines += ["", t.gettext("🔒 set in the bot's configuration (ADMIN_IDS)")]
    if notice:
        lines = [notice, "", *lines]
    rows.insert(0, [AdmAppoint().button(t.gettext("➕ Appoint an administrator"))])
    rows.append(_back(t))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def catalog_kinds(update: Update, context: ZyContext) -> None:
    t = context.t
    rows = [[AdmListItems(kind).button(t.gettext(label))] for kind, label in KIND_LABELS.items()]
    rows.append(_back(t))
    await show(
        update, t.gettext("📚 Which list would you like to edit?"), InlineKeyboardMarkup(rows)
    )


async def catalog_list(
    update: Update, context: ZyContext, kind: CatalogKind, notice: str | None = None
) -> None:
    t = context.t
    items = await service(context).catalog_items(context.user.telegram_id, kind)
    language = t.language.value
    buttons = [
        AdmItem(kind, item.code).button(("" if item.is_active else "⛔ ") + item.name(language))
        for item in items
    ]
    rows = button_rows(buttons, 2)
    rows.append([AdmAddItem(kind).button(t.gettext("➕ Add an entry"))])
    rows.append(_back(t, AdmLists()))
    text = t.gettext(
        "📚 <b>{list}</b>: tap an entry to rename or deactivate it. ⛔ = not shown to users."
    ).format(list=t.gettext(KIND_LABELS[kind]))
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, InlineKeyboardMarkup(rows))


async def catalog_item(
    update: Update, context: ZyContext, kind: CatalogKind, code: str, notice: str | None = None
) -> None:
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
        AdmItemActive(kind, item.code, False).button(t.gettext("⛔ Deactivate"))
        if item.is_active
        else AdmItemActive(kind, item.code, True).button(t.gettext("♻️ Reactivate"))
    )
    rows = [
        [AdmRenameItem(kind, item.code).button(t.gettext("✏️ Rename"))],
        [toggle],
        _back(t, AdmListItems(kind)),
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def ask(
    update: Update, context: ZyContext, what: AdminInput, prompt: str, state: FlowState
) -> None:
    """Ask for typed input: the flow owns the next text (before the question is shown)."""
    await take(context, FLOW, what.value, state)
    t = context.t
    await answer(update)
    await show(update, prompt + "\n\n" + t.gettext("Send /cancel to stop."), None)


# ------------------------------------------------------------------------------ presses


async def on_command(update: Update, context: ZyContext) -> None:
    """``/admin``."""
    try:
        await context.services.staff.require_admin(context.user.telegram_id)
    except StaffRefused:
        await send(update, context.t.gettext("Sorry, this is only for administrators."))
        return
    await release(context, FLOW)
    await panel(update, context)


async def on_home(update: Update, context: ZyContext, _press: AdmHome) -> None:
    await answer(update)
    await panel(update, context)


async def on_list(update: Update, context: ZyContext, press: AdmList) -> None:
    if press.page > MAX_PAGE:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    await answer(update)
    await org_list(update, context, press.pending, press.page)


async def on_org(update: Update, context: ZyContext, press: AdmOrg) -> None:
    await answer(update)
    await org_detail(update, context, press.organization_id)


async def on_approve(update: Update, context: ZyContext, press: AdmApprove) -> None:
    t = context.t
    oid = press.organization_id
    try:
        organization = await service(context).approve(context.user.telegram_id, oid)
    except AlreadyDecided as error:
        await answer(update, _already_text(t, error), alert=True)
        await org_detail(update, context, oid)
        return
    await answer(update, t.gettext("Approved."))
    nudge_outbox(context)
    notice = t.gettext("✅ {name} is approved; the applicant is told.").format(
        name=html(organization.name)
    )
    await org_detail(update, context, oid, notice=notice)


async def on_reject(update: Update, context: ZyContext, press: AdmReject) -> None:
    t = context.t
    oid = press.organization_id
    try:
        details = await service(context).ensure_pending(context.user.telegram_id, oid)
    except AlreadyDecided as error:
        await answer(update, _already_text(t, error), alert=True)
        await org_detail(update, context, oid)
        return
    prompt = t.gettext(
        "Why is <b>{name}</b> rejected? Type the reason; the applicant will see it."
    ).format(name=html(details.organization.name))
    await ask(update, context, AdminInput.REJECT, prompt, {"oid": oid})


async def on_suspend(update: Update, context: ZyContext, press: AdmSuspend) -> None:
    t = context.t
    oid = press.organization_id
    details = await service(context).ensure_status(
        context.user.telegram_id, oid, OrganizationStatus.APPROVED
    )
    prompt = t.gettext(
        "Why is <b>{name}</b> suspended? Type the reason. Its members lose their "
        "organizer tools until it is reinstated."
    ).format(name=html(details.organization.name))
    await ask(update, context, AdminInput.SUSPEND, prompt, {"oid": oid})


async def on_reinstate(update: Update, context: ZyContext, press: AdmReinstate) -> None:
    t = context.t
    oid = press.organization_id
    organization = await service(context).reinstate(context.user.telegram_id, oid)
    await answer(update, t.gettext("Reinstated."))
    notice = t.gettext("♻️ {name} is active again.").format(name=html(organization.name))
    await org_detail(update, context, oid, notice=notice)


async def on_admins(update: Update, context: ZyContext, _press: AdmAdmins) -> None:
    await answer(update)
    await admins_screen(update, context)


async def on_appoint(update: Update, context: ZyContext, _press: AdmAppoint) -> None:
    prompt = context.t.gettext(
        "Send the Telegram user id (digits) or the @username of the person to appoint. "
        "They must have used this bot before."
    )
    await ask(update, context, AdminInput.APPOINT, prompt, {})


async def on_remove_admin(update: Update, context: ZyContext, press: AdmRemoveAdmin) -> None:
    t = context.t
    user = await service(context).remove_admin(context.user.telegram_id, press.telegram_id)
    await answer(update, t.gettext("Removed."))
    await _refresh_commands(context, user)
    notice = t.gettext("✅ {name} is no longer an administrator.").format(
        name=html(user.first_name)
    )
    await admins_screen(update, context, notice=notice)


async def on_lists(update: Update, context: ZyContext, _press: AdmLists) -> None:
    await answer(update)
    await catalog_kinds(update, context)


async def on_list_items(update: Update, context: ZyContext, press: AdmListItems) -> None:
    await answer(update)
    await catalog_list(update, context, press.kind)


async def on_item(update: Update, context: ZyContext, press: AdmItem) -> None:
    await answer(update)
    await catalog_item(update, context, press.kind, press.code)


async def on_add_item(update: Update, context: ZyContext, press: AdmAddItem) -> None:
    t = context.t
    await service(context).catalog_items(context.user.telegram_id, press.kind)  # re-checks
    prompt = t.gettext(
        "New entry for <b>{list}</b>: send code | 中文名 | English name, for example "
        "first_aid | 急救 | First aid. The code is permanent (lowercase letters, "
        "digits, _)."
    ).format(list=t.gettext(KIND_LABELS[press.kind]))
    await ask(update, context, AdminInput.ADD, prompt, {"kind": press.kind.value})


async def on_rename_item(update: Update, context: ZyContext, press: AdmRenameItem) -> None:
    t = context.t
    item = await service(context).catalog_item(context.user.telegram_id, press.kind, press.code)
    prompt = t.gettext(
        "New names for <b>{zh}</b> / <b>{en}</b>: send 中文名 | English name."
    ).format(zh=html(item.name_zh), en=html(item.name_en))
    state: FlowState = {"kind": press.kind.value, "code": item.code}
    await ask(update, context, AdminInput.RENAME, prompt, state)


async def on_item_active(update: Update, context: ZyContext, press: AdmItemActive) -> None:
    item = await service(context).set_catalog_item_active(
        context.user.telegram_id, press.kind, press.code, press.active
    )
    await answer(update)
    notice = context.t.gettext("✅ Saved.")
    await catalog_item(update, context, press.kind, item.code, notice=notice)


_HANDLERS: dict[type[Press], Any] = {
    AdmHome: on_home,
    AdmList: on_list,
    AdmOrg: on_org,
    AdmApprove: on_approve,
    AdmReject: on_reject,
    AdmSuspend: on_suspend,
    AdmReinstate: on_reinstate,
    AdmAdmins: on_admins,
    AdmAppoint: on_appoint,
    AdmRemoveAdmin: on_remove_admin,
    AdmLists: on_lists,
    AdmListItems: on_list_items,
    AdmItem: on_item,
    AdmAddItem: on_add_item,
    AdmRenameItem: on_rename_item,
    AdmItemActive: on_item_active,
}


def _as_admin(handler: Any) -> Any:
    """Every panel press: the presser must be an administrator, and any typed input the panel
    was waiting for is given back (a press that asks again takes it anew)."""

    async def checked(update: Update, context: ZyContext, press: Press) -> object:
        await context.services.staff.require_admin(context.user.telegram_id)
        await release(context, FLOW)
        return await handler(update, context, press)

    return checked


async def on_malformed(update: Update, context: ZyContext) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    raise StaffRefused(StaffRefusal.NOT_FOUND)


PRESSES: PressTable = {family: _as_admin(handler) for family, handler in _HANDLERS.items()}


# ------------------------------------------------------------------------------ typed input


async def _input_done(update: Update, context: ZyContext, notice: str, back: Press) -> None:
    await release(context, FLOW)
    await send(update, notice, InlineKeyboardMarkup([_back(context.t, back)]))


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    try:
        await context.services.staff.require_admin(context.user.telegram_id)
        await _apply(update, context, owner, message.text)
    except InvalidInput as error:
        await send(
            update,
            t.gettext("⚠️ {problem}\n\nPlease try again, or send /cancel.").format(
                problem=error.translate(t.gettext)
            ),
        )
    except StaffRefused as error:
        await release(context, FLOW)
        await refuse_staff(update, context, error)
    except AlreadyDecided as error:
        await release(context, FLOW)
        await send(update, _already_text(t, error), InlineKeyboardMarkup([_back(t)]))
    except OrgRefused as error:
        await send(
            update,
            t.gettext("⚠️ {problem}\n\nPlease try again, or send /cancel.").format(
                problem=refusal_text(t, error)
            ),
        )


async def _apply(update: Update, context: ZyContext, owner: FlowOwner, text: str) -> None:
    """One typed answer, for what the flow's state says it was asked for."""
    t = context.t
    uid = context.user.telegram_id
    svc = service(context)
    try:
        what = AdminInput(owner.waiting_for)
    except ValueError:
        what = None
    oid = owner.int_state("oid")
    kind_value = owner.str_state("kind")
    kind = CatalogKind(kind_value) if kind_value in set(CatalogKind) else None
    code = owner.str_state("code")
    if what is AdminInput.REJECT and oid is not None:
        organization = await svc.reject(uid, oid, text)
        nudge_outbox(context)
        notice = t.gettext("❌ {name} is rejected; the applicant is told the reason.").format(
            name=html(organization.name)
        )
        await _input_done(update, context, notice, AdmHome())
    elif what is AdminInput.SUSPEND and oid is not None:
        organization = await svc.suspend(uid, oid, text)
        notice = t.gettext("⛔ {name} is suspended.").format(name=html(organization.name))
        await _input_done(update, context, notice, AdmHome())
    elif what is AdminInput.APPOINT:
        user = await svc.appoint_admin(uid, text)
        await _refresh_commands(context, user)
        notice = t.gettext("✅ {name} is now an administrator.").format(
            name=html(_person(user, user.telegram_id))
        )
        await _input_done(update, context, notice, AdmAdmins())
    elif what is AdminInput.ADD and kind is not None:
        item = await svc.add_catalog_item(uid, kind, text)
        notice = t.gettext("✅ Added: {zh} / {en} ({code}).").format(
            zh=html(item.name_zh), en=html(item.name_en), code=html(item.code)
        )
        await _input_done(update, context, notice, AdmListItems(kind))
    elif what is AdminInput.RENAME and kind is not None and code is not None:
        item = await svc.rename_catalog_item(uid, kind, code, text)
        notice = t.gettext("✅ Renamed: {zh} / {en}.").format(
            zh=html(item.name_zh), en=html(item.name_en)
        )
        await _input_done(update, context, notice, AdmItem(kind, item.code))
    else:  # a state written by another version: nothing sensible to do with the text
        log.warning("admin input of user %s: unusable state %r", uid, owner)
        await release(context, FLOW)
        await send(
            update, t.gettext("Stopped. Nothing was changed."), InlineKeyboardMarkup([_back(t)])
        )


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    t = context.t
    await send(update, t.gettext("Stopped. Nothing was changed."), InlineKeyboardMarkup([_back(t)]))


FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel)]


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
                AdmApprove(oid).button(t.gettext("✅ Approve")),
                AdmReject(oid).button(t.gettext("❌ Reject")),
            ]
        ]
    )
    return Rendered(text, markup)


# ------------------------------------------------------------------------------- wiring


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("admin", on_command))
    for handler, group in press_handlers(
        PRESSES, invalid=on_malformed, on_refused=answer_refused, prefix="adm"
    ):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ORG_APPLICATION: render_application,
}
