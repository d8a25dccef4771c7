"""Points and rewards (服务积分、礼遇回馈): ``/points`` (balance, history, redemptions),
``/rewards`` (browse and redeem; staff offer rewards, hand them over and set activities' point
tiers).

```mermaid
flowchart LR
    P[/points · rw.mine/] -->|rw.cancel:ID before hand-over| P
    R[/rewards · rw.list/] -->|rw.ask:ID:PRICE| Q[Redeem for N points?]
    Q -->|rw.buy:ID:PRICE| P
    R -->|staff · rw.org:ORG| O[the organization's rewards]
    O -->|rw.new:ORG, flow reward_new: name / points / stock| O
    O -->|rw.off:ID withdraw| O
    R -->|staff · rw.wait| W[hand-overs waiting]
    W -->|rw.hand:ID handed over · rw.back:ID cancel and refund| W
    R -->|staff · rw.tiers| T[point tiers of open activities]
    T -->|rw.tier:ACTIVITY:TIER| T
```

The price a button shows travels with it: a reward repriced since the list was drawn is refused,
not charged at the new price. Every press is re-checked in :mod:`bot.services.points`: a
volunteer acts on their own redemptions only, staff on their organizations' rewards only
(administrators on the federation's); forged presses change nothing. ``0`` stands for the
federation where a button names an organization. While a reward is being typed the flow
``reward_new`` owns the typed input.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.points import (
    PointsRefusal,
    PointTier,
    Redemption,
    RedemptionStatus,
    TransferKind,
    format_points,
)
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from handlers.activity_view import clip
from handlers.callbacks import Press
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS

FLOW = "reward_new"
FEDERATION = 0

TEXTS = RefusalTexts(
    STAFF_REFUSALS,
    {
        PointsRefusal.SOLD_OUT: N_("Sorry, this reward is out of stock."),
        PointsRefusal.NOT_ENOUGH_POINTS: N_("You do not have enough points for this reward."),
        PointsRefusal.NOT_FOUND: N_("This button is no longer valid."),
        PointsRefusal.WITHDRAWN: N_("This reward is no longer offered."),
        PointsRefusal.PRICE_CHANGED: N_("The price has changed. Please look at the list again."),
        PointsRefusal.DECIDED: N_("This redemption was handed over or cancelled already."),
        PointsRefusal.NOT_REGISTERED: N_("You are not registered yet. Send /register to start."),
        PointsRefusal.CONFIRMED: N_(
            "The hours are confirmed: the point tier can no longer change."
        ),
    },
)

TIER_LABELS: dict[PointTier, str] = {
    PointTier.STANDARD: N_("×1 standard"),
    PointTier.SKILLED: N_("×1.5 skilled"),
    PointTier.DEMANDING: N_("×2 hard or risky"),
}

TRANSFER_LABELS: dict[TransferKind, str] = {
    TransferKind.SERVICE: N_("service"),
    TransferKind.CORRECTION: N_("hours corrected"),
    TransferKind.REDEMPTION: N_("redeemed"),
    TransferKind.REFUND: N_("refunded"),
}

STATUS_LABELS: dict[RedemptionStatus, str] = {
    RedemptionStatus.RESERVED: N_("⏳ to collect"),
    RedemptionStatus.HANDED_OVER: N_("✅ handed over"),
    RedemptionStatus.CANCELLED: N_("↩️ cancelled, refunded"),
}


# ------------------------------------------------------------------------------------- buttons


class RwMine(Press, prefix="rw.mine"):
    pass


class RwList(Press, prefix="rw.list"):
    pass


class RwAsk(Press, prefix="rw.ask"):
    reward: int
    price: int


class RwBuy(Press, prefix="rw.buy"):
    reward: int
    price: int  # the price the volunteer saw


class RwCancel(Press, prefix="rw.cancel"):
    """The volunteer cancels their own redemption before the hand-over."""

    redemption: int


class RwOrg(Press, prefix="rw.org"):
    organization: int  # 0: the federation


class RwNew(Press, prefix="rw.new"):
    organization: int  # 0: the federation


class RwOff(Press, prefix="rw.off"):
    reward: int


class RwWait(Press, prefix="rw.wait"):
    pass


class RwHand(Press, prefix="rw.hand"):
    redemption: int


class RwBack(Press, prefix="rw.back"):
    """Staff cancel a redemption (the points go back, the item back in stock)."""

    redemption: int


class RwTiers(Press, prefix="rw.tiers"):
    pass


class RwTier(Press, prefix="rw.tier"):
    activity: int
    tier: PointTier


def tier_buttons(t: Translator, activity_id: int, current: PointTier) -> list[InlineKeyboardButton]:
    """The three tier buttons of one activity (for the management card too)."""
    return [
        RwTier(activity_id, tier).button(("✓ " if tier is current else "") + t.gettext(label))
        for tier, label in TIER_LABELS.items()
    ]


def points_text(t: Translator, amount: int) -> str:
    return t.gettext("{points} points").format(points=format_points(amount))


def _organization(value: int) -> int | None:
    return None if value == FEDERATION else value


# ------------------------------------------------------------------------------------- screens


async def show_mine(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    balance, history, redemptions = await context.services.points.account(context.user.telegram_id)
    lines = [notice, ""] if notice else []
    lines += [
        t.gettext("💰 <b>My points</b>: {points}").format(points=format_points(balance)),
        t.gettext(
            "Every confirmed hour earns {points} (×1.5 for skilled, ×2 for hard or risky service)."
        ).format(points=points_text(t, context.services.points.points_per_hour * 100)),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if history:
        lines += ["", t.gettext("<b>Latest movements</b>")]
        for movement in history:
            kind = t.gettext(TRANSFER_LABELS[movement.kind])
            sign = "+" if movement.amount > 0 else ""
            lines.append(
                f"{t.format_day(movement.created_at)} · {sign}{format_points(movement.amount)}"
                f" · {kind} · {html(movement.about)}"
            )
    if redemptions:
        lines += ["", t.gettext("<b>My rewards</b>")]
        for redemption in redemptions:
            status = t.gettext(STATUS_LABELS[redemption.status])
            lines.append(
                f"{t.format_day(redemption.redeemed_at)} · {html(redemption.reward_title)} · "
                f"{format_points(redemption.price)} · {status}"
            )
            if redemption.status is RedemptionStatus.RESERVED:
                rows.append(
                    [
                        RwCancel(redemption.redemption_id).button(
                            t.gettext("↩️ Cancel «{title}»").format(
                                title=clip(redemption.reward_title)
                            )
                        )
                    ]
                )
    rows.append([RwList().button(t.gettext("🎁 Rewards"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_list(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    user_id = context.user.telegram_id
    offered = await services.points.offered()
    lines = [notice, ""] if notice else []
    lines.append(t.gettext("🎁 <b>Rewards</b> (礼遇回馈)"))
    profile = await services.registration.profile(user_id)
    if profile is not None:
        balance = await services.points.balance_of(profile.volunteer_id)
        lines.append(t.gettext("Your points: {points}").format(points=format_points(balance)))
    rows: list[list[InlineKeyboardButton]] = []
    if not offered:
        lines.append(t.gettext("No rewards are offered at the moment."))
    for reward in offered:
        source = reward.offered_by or t.gettext("the federation")
        lines.append(
            t.gettext("«{title}» · {price} · {stock} left · from {source}").format(
                title=html(reward.title),
                price=points_text(t, reward.price),
                stock=reward.stock,
                source=html(source),
            )
        )
        if reward.stock > 0 and profile is not None:
            rows.append(
                [
                    RwAsk(reward.reward_id, reward.price).button(
                        t.gettext("🎁 {title} · {price}").format(
                            title=clip(reward.title), price=format_points(reward.price)
                        )
                    )
                ]
            )
    issuers = await services.points.issuers(user_id)
    if issuers:
        rows.append(
            [
                RwWait().button(t.gettext("📦 Hand-overs")),
                RwTiers().button(t.gettext("⚖️ Point tiers")),
            ]
        )
        rows += [
            [
                RwOrg(organization_id or FEDERATION).button(
                    t.gettext("🏷 Rewards of {issuer}").format(
                        issuer=clip(name or t.gettext("the federation"))
                    )
                )
            ]
            for organization_id, name in issuers
        ]
    if profile is not None:
        rows.append([RwMine().button(t.gettext("💰 My points"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_org(
    update: Update, context: ZyContext, organization: int, notice: str | None = None
) -> None:
    t = context.t
    rewards = await context.services.points.rewards_of(
        context.user.telegram_id, _organization(organization)
    )
    lines = [notice, ""] if notice else []
    lines.append(t.gettext("🏷 <b>Rewards you offer</b>"))
    rows: list[list[InlineKeyboardButton]] = []
    if not rewards:
        lines.append(t.gettext("None yet."))
    for reward in rewards:
        lines.append(
            t.gettext("«{title}» · {price} · {stock} left").format(
                title=html(reward.title), price=points_text(t, reward.price), stock=reward.stock
            )
        )
        rows.append(
            [
                RwOff(reward.reward_id).button(
                    t.gettext("🚫 Withdraw «{title}»").format(title=clip(reward.title))
                )
            ]
        )
    rows.append([RwNew(organization).button(t.gettext("➕ New reward"))])
    rows.append([RwList().button(t.gettext("⬅️ Rewards"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


def _redemption_line(t: Translator, redemption: Redemption) -> str:
    return t.gettext("{name} · «{title}» · {price} · {day}").format(
        name=html(redemption.volunteer_name or "—"),
        title=html(redemption.reward_title),
        price=points_text(t, redemption.price),
        day=t.format_day(redemption.redeemed_at),
    )


def _decide_rows(t: Translator, redemption_id: int) -> list[InlineKeyboardButton]:
    return [
        RwHand(redemption_id).button(t.gettext("✅ Handed over")),
        RwBack(redemption_id).button(t.gettext("↩️ Cancel and refund")),
    ]


async def show_waiting(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    waiting = await context.services.points.waiting(context.user.telegram_id)
    lines = [notice, ""] if notice else []
    lines.append(t.gettext("📦 <b>Hand-overs waiting</b> ({count})").format(count=len(waiting)))
    rows: list[list[InlineKeyboardButton]] = []
    if not waiting:
        lines.append(t.gettext("Nothing to hand over."))
    for number, redemption in enumerate(waiting, start=1):
        lines.append(f"{number}. " + _redemption_line(t, redemption))
        rows.append(
            [
                RwHand(redemption.redemption_id).button(
                    t.gettext("✅ {number} handed over").format(number=number)
                ),
                RwBack(redemption.redemption_id).button(
                    t.gettext("↩️ {number} cancel").format(number=number)
                ),
            ]
        )
    rows.append([RwList().button(t.gettext("⬅️ Rewards"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_tiers(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    tiers = await context.services.points.tiers(context.user.telegram_id)
    lines = [notice, ""] if notice else []
    lines += [
        t.gettext("⚖️ <b>Point tiers</b>"),
        t.gettext(
            "Points per confirmed hour: ×1 standard, ×1.5 skilled (a professional skill), ×2 hard "
            "or risky. The tier is fixed once the hours are confirmed."
        ),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if not tiers:
        lines.append(t.gettext("No activity is waiting for its hours."))
    for number, row in enumerate(tiers, start=1):
        tier = t.gettext(TIER_LABELS[row.tier])
        lines.append(f"{number}. {html(row.title)} · {t.format_day(row.starts_at)} · {tier}")
        rows.append(tier_buttons(t, row.activity_id, row.tier))
    rows.append([RwList().button(t.gettext("⬅️ Rewards"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


# ------------------------------------------------------------------------------------- presses


async def on_points(update: Update, context: ZyContext) -> None:
    """``/points``."""
    if await context.services.registration.profile(context.user.telegram_id) is None:
        await send(
            update, context.t.gettext("You are not registered yet. Send /register to start.")
        )
        return
    await show_mine(update, context)


async def on_rewards(update: Update, context: ZyContext) -> None:
    """``/rewards``."""
    await release(context, FLOW)
    await show_list(update, context)


async def on_mine(update: Update, context: ZyContext, _press: RwMine) -> None:
    await answer(update)
    await show_mine(update, context)


async def on_list(update: Update, context: ZyContext, _press: RwList) -> None:
    await answer(update)
    await show_list(update, context)


async def on_ask(update: Update, context: ZyContext, press: RwAsk) -> None:
    t = context.t
    reward = await context.services.points.reward(press.reward)
    await answer(update)
    await show(
        update,
        t.gettext(
            "Redeem «{title}» for {price}? The points are taken now; {source} hands it over."
        ).format(
            title=html(reward.title),
            price=points_text(t, press.price),
            source=html(reward.offered_by or t.gettext("the federation")),
        ),
        InlineKeyboardMarkup(
            [
                [RwBuy(press.reward, press.price).button(t.gettext("✅ Redeem"))],
                [RwList().button(t.gettext("⬅️ Rewards"))],
            ]
        ),
    )


async def on_buy(update: Update, context: ZyContext, press: RwBuy) -> None:
    t = context.t
    redemption = await context.services.points.redeem(
        context.user.telegram_id, press.reward, press.price
    )
    await answer(update)
    nudge_outbox(context)
    await show_mine(
        update,
        context,
        notice=t.gettext("🎁 Redeemed «{title}». The organizer will hand it over to you.").format(
            title=html(redemption.reward_title)
        ),
    )


async def on_cancel_own(update: Update, context: ZyContext, press: RwCancel) -> None:
    redemption = await context.services.points.cancel_own(
        context.user.telegram_id, press.redemption
    )
    await answer(update)
    await show_mine(
        update,
        context,
        notice=context.t.gettext("↩️ Cancelled «{title}»; your points are back.").format(
            title=html(redemption.reward_title)
        ),
    )


async def on_org(update: Update, context: ZyContext, press: RwOrg) -> None:
    await show_org(update, context, press.organization)
    await answer(update)


async def on_new(update: Update, context: ZyContext, press: RwNew) -> None:
    t = context.t
    # Re-checked here (and again when the text arrives): only that issuer's staff may add.
    await context.services.points.rewards_of(
        context.user.telegram_id, _organization(press.organization)
    )
    await take(context, FLOW, "reward", {"organization": press.organization})
    await answer(update)
    await send(update, _prompt(t))


async def on_off(update: Update, context: ZyContext, press: RwOff) -> None:
    reward = await context.services.points.withdraw(context.user.telegram_id, press.reward)
    await answer(update)
    await show_org(
        update,
        context,
        reward.organization_id or FEDERATION,
        notice=context.t.gettext("🚫 «{title}» is withdrawn.").format(title=html(reward.title)),
    )


async def on_wait(update: Update, context: ZyContext, _press: RwWait) -> None:
    await answer(update)
    await show_waiting(update, context)


async def _decide(update: Update, context: ZyContext, redemption_id: int, handed: bool) -> None:
    t = context.t
    redemption = await context.services.points.decide(
        context.user.telegram_id, redemption_id, handed
    )
    await answer(update)
    notice = (
        t.gettext("✅ «{title}» handed over to {name}.")
        if handed
        else t.gettext("↩️ «{title}» cancelled; {name} has the points back.")
    ).format(title=html(redemption.reward_title), name=html(redemption.volunteer_name or "—"))
    await show_waiting(update, context, notice=notice)


async def on_hand(update: Update, context: ZyContext, press: RwHand) -> None:
    await _decide(update, context, press.redemption, True)


async def on_back(update: Update, context: ZyContext, press: RwBack) -> None:
    await _decide(update, context, press.redemption, False)


async def on_tiers(update: Update, context: ZyContext, _press: RwTiers) -> None:
    await answer(update)
    await show_tiers(update, context)


async def on_tier(update: Update, context: ZyContext, press: RwTier) -> None:
    await context.services.points.set_tier(context.user.telegram_id, press.activity, press.tier)
    await answer(update)
    await show_tiers(update, context, notice=context.t.gettext("✅ Point tier saved."))


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {
    RwMine: on_mine,
    RwList: on_list,
    RwAsk: on_ask,
    RwBuy: on_buy,
    RwCancel: on_cancel_own,
    RwOrg: on_org,
    RwNew: on_new,
    RwOff: on_off,
    RwWait: on_wait,
    RwHand: on_hand,
    RwBack: on_back,
    RwTiers: on_tiers,
    RwTier: on_tier,
}


# ------------------------------------------------------------------------------------- typing


def _prompt(t: Translator) -> str:
    return t.gettext(
        "Type the reward on one line: name / points / how many, e.g. "
        "<code>爱心雨伞 / 20 / 5</code>. Send /cancel to stop."
    )


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    organization = owner.int_state("organization")
    if organization is None:
        await release(context, FLOW)
        return
    try:
        reward = await context.services.points.add_reward(
            context.user.telegram_id, _organization(organization), message.text
        )
    except InvalidInput as error:  # still waiting for the reward
        await send(update, error.translate(t.gettext) + "\n\n" + _prompt(t))
        return
    await release(context, FLOW)
    await show_org(
        update,
        context,
        organization,
        notice=t.gettext("✅ «{title}» is offered: {price}, {stock} in stock.").format(
            title=html(reward.title), price=points_text(t, reward.price), stock=reward.stock
        ),
    )


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, _prompt(context.t))


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, nothing was changed."))


FLOWS = [Flow(FLOW, on_text=on_text, on_other=on_other, on_cancel=on_cancel)]


# ------------------------------------------------------------------------------ notifications


async def render_redeemed(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """REWARD_REDEEMED to the offering organization's staff; dropped once decided."""
    redemption_id = item.payload.get("redemption")
    if not isinstance(redemption_id, int):
        return None
    redemption = await services.points.still_waiting(redemption_id)
    if redemption is None:
        return None
    text = (
        t.gettext("🎁 <b>A reward was redeemed</b>")
        + "\n"
        + _redemption_line(t, redemption)
        + "\n"
        + t.gettext("Hand it over, then confirm here.")
    )
    return Rendered(text, InlineKeyboardMarkup([_decide_rows(t, redemption_id)]))


RENDERERS: Renderers = {NotificationKind.REWARD_REDEEMED: render_redeemed}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("points", on_points))
    application.add_handler(CommandHandler("rewards", on_rewards))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
