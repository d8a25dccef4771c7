"""Service points, the time bank and rewards (服务积分、时间储蓄、礼遇回馈).

```mermaid
flowchart LR
    C[hours confirmed or corrected] -->|at once; sweep as backstop| L[(ledger: issuer → volunteer)]
    O[organizer sets the activity's tier ×1 ×1.5 ×2] --> C
    S[staff add a reward: name / points / stock] --> W[(rewards)]
    V[volunteer redeems] -->|one transaction: stock − 1, volunteer → reward account| R[reserved]
    R -->|REWARD_REDEEMED to the offering staff| H[staff hand it over ✅]
    R -->|volunteer or staff cancel| X[refund: reward account → volunteer, stock + 1]
```

Every action is re-authorized here: a volunteer acts on their own redemptions only; staff act
on the rewards and redemptions of the organizations they belong to (administrators on the
federation's and any organization's). Forged presses raise a refusal and change nothing.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.config import Settings
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.points import (
    Movement,
    PointsRefusal,
    PointsRefused,
    PointTier,
    Redemption,
    RedemptionStatus,
    Reward,
    parse_reward,
)
from bot.domain.users import Role
from bot.domain.volunteers import VolunteerProfile
from bot.services.staff import StaffService
from storage.points import PointsRepository, Settled, TierRow
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository

__all__ = ["Issuer", "PointsService"]

log = logging.getLogger(__name__)

HISTORY_LIMIT = 10
OFFER_LIMIT = 30
WAITING_LIMIT = 30
TIER_LIMIT = 20

#: Where a reward comes from: an organization's id and name, or ``(None, None)`` for the
#: federation.
Issuer = tuple[int | None, str | None]


class PointsService:
    def __init__(
        self,
        points: PointsRepository,
        volunteers: VolunteersRepository,
        users: UsersRepository,
        staff: StaffService,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._points = points
        self._volunteers = volunteers
        self._users = users
        self._staff = staff
        self._clock = clock
        self._settings = settings

    @property
    def points_per_hour(self) -> int:
        return self._settings.points_per_hour

    async def settle(self) -> Settled:
        """Credit what the confirmed hours earned since the last run (idempotent)."""
        return await self._points.settle(self._clock(), self.points_per_hour)

    async def _profile(self, telegram_id: int) -> VolunteerProfile:
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            raise PointsRefused(PointsRefusal.NOT_REGISTERED)
        return profile

    # -- a volunteer ----------------------------------------------------------------------------

    async def balance_of(self, volunteer_id: int) -> int:
        return await self._points.balance(volunteer_id)

    async def account(self, telegram_id: int) -> tuple[int, list[Movement], list[Redemption]]:
        """Balance, latest movements and redemptions of this volunteer."""
        profile = await self._profile(telegram_id)
        vid = profile.volunteer_id
        return (
            await self._points.balance(vid),
            await self._points.history(vid, HISTORY_LIMIT),
            await self._points.redemptions_of(vid, HISTORY_LIMIT),
        )

    async def offered(self) -> list[Reward]:
        return await self._points.offered(OFFER_LIMIT)

    async def reward(self, reward_id: int) -> Reward:
        found = await self._points.reward(reward_id)
        if found is None:
            raise PointsRefused(PointsRefusal.NOT_FOUND)
        return found

    async def redeem(self, telegram_id: int, reward_id: int, price_seen: int) -> Redemption:
        profile = await self._profile(telegram_id)
        reward = await self.reward(reward_id)
        now = self._clock()
        notify = [
            Notification(
                kind=NotificationKind.REWARD_REDEEMED,
                telegram_id=recipient,
                subject="redemption",  # made unique per redemption by the repository
                payload={},
                due_at=now,
            )
            for recipient in await self._handlers_of(reward.organization_id)
        ]
        redemption = await self._points.redeem(
            reward_id, profile.volunteer_id, price_seen, now, notify
        )
        log.info(
            "volunteer %s redeemed reward %s (%s)",
            profile.volunteer_id,
            reward_id,
            redemption.redemption_id,
        )
        return redemption

    async def cancel_own(self, telegram_id: int, redemption_id: int) -> Redemption:
        profile = await self._profile(telegram_id)
        redemption = await self._points.redemption(redemption_id)
        if redemption is None or redemption.volunteer_id != profile.volunteer_id:
            raise PointsRefused(PointsRefusal.NOT_FOUND)
        if not await self._points.cancel(redemption_id, telegram_id, self._clock()):
            raise PointsRefused(PointsRefusal.DECIDED)
        return await self._redemption(redemption_id)

    async def _redemption(self, redemption_id: int) -> Redemption:
        found = await self._points.redemption(redemption_id)
        if found is None:
            raise PointsRefused(PointsRefusal.NOT_FOUND)
        return found

    # -- staff ----------------------------------------------------------------------------------

    async def _handlers_of(self, organization_id: int | None) -> list[int]:
        """Who hands over a reward: the organization's staff, administrators for the
        federation's."""
        if organization_id is not None:
            return await self._points.staff_of(organization_id)
        appointed = {user.telegram_id for user in await self._users.list_by_role(Role.ADMIN)}
        return sorted(set(self._settings.admin_ids) | appointed)

    async def _require_issuer(self, actor: int, organization_id: int | None) -> None:
        if organization_id is None:
            await self._staff.require_admin(actor)
        else:
            await self._staff.organization_for(actor, organization_id)

    async def issuers(self, actor: int) -> list[Issuer]:
        """Where this person may offer rewards: their organizations, and the federation for
        administrators."""
        found: list[Issuer] = [
            (organization.organization_id, organization.name)
            for organization, _role in await self._staff.organizations_of(actor)
        ]
        if await self._staff.is_admin(actor):
            found.insert(0, (None, None))
        return found

    async def add_reward(self, actor: int, organization_id: int | None, text: str) -> Reward:
        """``爱心雨伞 / 20 / 5``; raises ``InvalidInput`` or a staff refusal."""
        await self._require_issuer(actor, organization_id)
        draft = parse_reward(text)
        reward = await self._points.add_reward(
            organization_id, draft.title, draft.price, draft.stock, actor, self._clock()
        )
        log.info("reward %s added by %s for %s", reward.reward_id, actor, organization_id)
        return reward

    async def rewards_of(self, actor: int, organization_id: int | None) -> list[Reward]:
        await self._require_issuer(actor, organization_id)
        return await self._points.rewards_of(organization_id, OFFER_LIMIT)

    async def withdraw(self, actor: int, reward_id: int) -> Reward:
        reward = await self.reward(reward_id)
        await self._require_issuer(actor, reward.organization_id)
        if not await self._points.withdraw_reward(reward_id, self._clock()):
            raise PointsRefused(PointsRefusal.WITHDRAWN)
        return await self.reward(reward_id)

    async def waiting(self, actor: int) -> list[Redemption]:
        """Redemptions this person may hand over, oldest first."""
        organizations = [o.organization_id for o, _ in await self._staff.organizations_of(actor)]
        admin = await self._staff.is_admin(actor)
        return await self._points.waiting(organizations, admin, WAITING_LIMIT)

    async def decide(self, actor: int, redemption_id: int, handed_over: bool) -> Redemption:
        """Staff confirm the hand-over, or cancel (refund); only for their organization's
        rewards (administrators: the federation's too)."""
        redemption = await self._redemption(redemption_id)
        await self._require_issuer(actor, redemption.organization_id)
        now = self._clock()
        done = (
            await self._points.hand_over(redemption_id, actor, now)
            if handed_over
            else await self._points.cancel(redemption_id, actor, now)
        )
        if not done:
            raise PointsRefused(PointsRefusal.DECIDED)
        log.info(
            "redemption %s %s by %s",
            redemption_id,
            "handed over" if handed_over else "cancelled",
            actor,
        )
        return await self._redemption(redemption_id)

    async def still_waiting(self, redemption_id: int) -> Redemption | None:
        found = await self._points.redemption(redemption_id)
        return found if found is not None and found.status is RedemptionStatus.RESERVED else None

    # -- tiers ----------------------------------------------------------------------------------

    async def tiers(self, actor: int) -> list[TierRow]:
        organizations = [o.organization_id for o, _ in await self._staff.organizations_of(actor)]
        return await self._points.open_tiers(organizations, TIER_LIMIT)

    async def set_tier(self, actor: int, activity_id: int, tier: PointTier) -> None:
        await self._staff.activity_for(actor, activity_id)
        if not await self._points.set_tier(activity_id, tier, self._clock()):
            raise PointsRefused(PointsRefusal.CONFIRMED)
        log.info("activity %s point tier %s by %s", activity_id, tier.value, actor)
