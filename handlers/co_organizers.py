"""Co-organizers of an organization: its managers see the members, invite with one-time links
and remove members; the invited person joins from the link.

```mermaid
stateDiagram-v2
    Home --> Members: org.mem (managers; the organization home is handlers.organize)
    Members --> Invite: org.inv → one-time link ?start=inv_<code>
    Members --> Members: org.rm → org.rmy (remove, asked first)
    InviteLink: /start inv_<code> --> Join: org.join → organizer member → Home
```

Only a SHA-256 of an invitation code is stored; taking one is a single conditional UPDATE
(:mod:`bot.services.organizations`). Every press is re-authorized there: a forged or stale one
gets the organization's refusal and changes nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.activities import MemberRole
from bot.domain.deeplinks import invite_payload
from bot.services.organizations import OrgRefusal, OrgRefused
from handlers.callbacks import MenuItem, MenuOpen
from handlers.organize import (
    OrgInvite,
    OrgJoin,
    OrgMembers,
    OrgOpen,
    OrgRemove,
    OrgRemoveYes,
    answer_refused,
    home_row,
    on_malformed,
    refusal_text,
    service,
    show_home,
)
from handlers.press_table import PressTable, press_handlers
from handlers.render import answer, html, send, show


async def show_members(
    update: Update, context: ZyContext, organization_id: int, notice: str | None = None
) -> None:
    t = context.t
    organization, members = await service(context).members(
        context.user.telegram_id, organization_id
    )
    await answer(update)
    lines = [t.gettext("👥 <b>Members of {name}</b>").format(name=html(organization.name)), ""]
    buttons = []
    for member in members:
        name = " ".join(part for part in (member.first_name, member.last_name) if part)
        if member.username:
            name += f" (@{member.username})"
        role = t.gettext("manager") if member.role is MemberRole.MANAGER else t.gettext("organizer")
        lines.append(t.gettext("• {name} — {role}").format(name=html(name), role=role))
        if member.telegram_id != context.user.telegram_id:
            label = t.gettext("➖ Remove {name}").format(name=member.first_name)
            buttons.append([OrgRemove(organization_id, member.telegram_id).button(label)])
    lines += [
        "",
        t.gettext(
            "Invite a co-organizer with a one-time link: it works once and expires after "
            "{hours} hours."
        ).format(hours=int(service(context).invite_ttl.total_seconds() // 3600)),
    ]
    if notice:
        lines = [notice, "", *lines]
    rows = [
        [OrgInvite(organization_id).button(t.gettext("🔗 Create an invitation link"))],
        *buttons,
        [OrgOpen(organization_id).button(t.gettext("⬅️ Back"))],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_members(update: Update, context: ZyContext, press: OrgMembers) -> None:
    await show_members(update, context, press.organization_id)


async def on_invite(update: Update, context: ZyContext, press: OrgInvite) -> None:
    t = context.t
    oid = press.organization_id
    code, expires_at = await service(context).create_invite(context.user.telegram_id, oid)
    await answer(update)
    link = f"https://t.me/{context.bot.username}?start={invite_payload(code)}"
    text = t.gettext(
        "🔗 Send this link to the person you want as a co-organizer. It works <b>once</b> and "
        "expires on {expires}.\n\n{link}"
    ).format(expires=t.format_datetime(expires_at, "short"), link=html(link))
    await send(update, text, InlineKeyboardMarkup([[OrgMembers(oid).button(t.gettext("⬅️ Back"))]]))


async def on_remove(update: Update, context: ZyContext, press: OrgRemove) -> None:
    """Ask before removing a member."""
    t = context.t
    _, members = await service(context).members(context.user.telegram_id, press.organization_id)
    member = next((m for m in members if m.telegram_id == press.telegram_id), None)
    if member is None:
        raise OrgRefused(OrgRefusal.NOT_MEMBER)
    await answer(update)
    await show(
        update,
        t.gettext("Remove <b>{name}</b> from the organization?").format(
            name=html(member.first_name)
        ),
        InlineKeyboardMarkup(
            [
                [
                    OrgRemoveYes(press.organization_id, press.telegram_id).button(
                        t.gettext("✅ Yes, remove")
                    )
                ],
                [OrgMembers(press.organization_id).button(t.gettext("⬅️ Back"))],
            ]
        ),
    )


async def on_remove_yes(update: Update, context: ZyContext, press: OrgRemoveYes) -> None:
    t = context.t
    member = await service(context).remove_member(
        context.user.telegram_id, press.organization_id, press.telegram_id
    )
    notice = t.gettext("✅ {name} is no longer a member.").format(name=html(member.first_name))
    await show_members(update, context, press.organization_id, notice=notice)


async def show_invite(update: Update, context: ZyContext, code: str) -> None:
    """``/start inv_<code>``: who invites, and a Join button (nothing changes before it)."""
    t = context.t
    try:
        organization = await service(context).invite_target(context.user.telegram_id, code)
    except OrgRefused as error:
        await send(update, refusal_text(t, error), InlineKeyboardMarkup([home_row(t)]))
        return
    text = t.gettext(
        "🏢 You are invited to join <b>{name}</b> as a co-organizer: you will be able to "
        "publish and manage its activities. Join?"
    ).format(name=html(organization.name))
    rows = [
        [OrgJoin(code).button(t.gettext("✅ Join"))],
        [
            InlineKeyboardButton(
                t.gettext("No, thanks"), callback_data=MenuOpen(MenuItem.HOME).pack()
            )
        ],
    ]
    await send(update, text, InlineKeyboardMarkup(rows))


async def on_join(update: Update, context: ZyContext, press: OrgJoin) -> None:
    t = context.t
    organization = await service(context).accept_invite(context.user.telegram_id, press.code)
    await answer(update)
    await show_home(
        update,
        context,
        organization,
        MemberRole.ORGANIZER,
        notice=t.gettext("🎉 Welcome! You are now a co-organizer of {name}.").format(
            name=html(organization.name)
        ),
    )


PRESSES: PressTable = {
    OrgMembers: on_members,
    OrgInvite: on_invite,
    OrgRemove: on_remove,
    OrgRemoveYes: on_remove_yes,
    OrgJoin: on_join,
}


def register(application: HandlerSink) -> None:
    # Before handlers.organize, which claims every other ``org.`` press (its prefix).
    for handler, group in press_handlers(PRESSES, invalid=on_malformed, on_refused=answer_refused):
        application.add_handler(handler, group)
