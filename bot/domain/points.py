"""Service points (服务积分) and the time bank (时间储蓄): rules and shapes, no storage.

Points are integers in hundredths of a point (``100`` = 1 point), so ½ h of skilled service
(×1.5) at 1 point per hour is exactly 75 and no float ever reaches the ledger. A record earns
``minutes × points per hour × tier ÷ 60``, rounded down, once; when its hours are corrected the
difference moves as one balancing transfer.

The ledger is double entry (TimeOverflow's model): every transfer is movements summing to zero
between accounts — the federation's issuing account (the only one that may be negative: minus
the points in circulation), the federation's and each organization's reward account, and each
volunteer's account. A balance is the sum of its account's movements and never negative.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_

#: Hundredths: the ledger's unit.
UNIT: Final = 100


class PointTier(StrEnum):
    """How an activity's hours weigh (difficulty, skill or risk)."""

    STANDARD = "standard"  # ×1
    SKILLED = "skilled"  # ×1.5: needs a professional skill (medical, legal, teaching …)
    DEMANDING = "demanding"  # ×2: hard or risky (disaster relief, night shifts, heat …)

    @property
    def percent(self) -> int:
        return _PERCENT[self]


_PERCENT: Final = {PointTier.STANDARD: 100, PointTier.SKILLED: 150, PointTier.DEMANDING: 200}


def points_for(minutes: int, tier: PointTier, points_per_hour: int) -> int:
    """Hundredths of a point earned by ``minutes`` of confirmed service (rounded down)."""
    return minutes * points_per_hour * UNIT * tier.percent // (60 * 100)


def format_points(amount: int) -> str:
    """``1275`` → ``12.75``; ``1200`` → ``12``; ``1250`` → ``12.5`` (as people write it)."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), UNIT)
    if not cents:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


class AccountKind(StrEnum):
    ISSUER = "issuer"
    FEDERATION = "federation"
    ORGANIZATION = "organization"
    VOLUNTEER = "volunteer"


class TransferKind(StrEnum):
    SERVICE = "service"
    CORRECTION = "correction"
    REDEMPTION = "redemption"
    REFUND = "refund"


@dataclass(frozen=True)
class Movement:
    """One line of a volunteer's history: a movement on their account and what caused it."""

    transfer_id: int
    kind: TransferKind
    amount: int
    created_at: datetime
    #: The record's activity title (service, correction) or the reward's title.
    about: str


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"  # paid, waiting to be handed over
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"  # refunded, back in stock


@dataclass(frozen=True)
class Reward:
    reward_id: int
    #: ``None``: the federation's own reward.
    organization_id: int | None
    offered_by: str | None
    title: str
    price: int
    stock: int
    is_active: bool


@dataclass(frozen=True)
class Redemption:
    redemption_id: int
    reward_id: int
    volunteer_id: int
    reward_title: str
    organization_id: int | None
    price: int
    status: RedemptionStatus
    redeemed_at: datetime
    decided_at: datetime | None
    volunteer_name: str | None = None


# -- a new reward, typed on one line --------------------------------------------------------------

REWARD_TITLE_MAX: Final = 40
MAX_PRICE_POINTS: Final = 100_000
MAX_STOCK: Final = 10_000

REWARD_FORMAT: Final = N_(
    "Please type the reward as: name / points / how many, e.g. 爱心雨伞 / 20 / 5."
)
REWARD_PRICE: Final = N_("The price must be a number of points from 0.01 to {max}.")
REWARD_STOCK: Final = N_("How many must be a whole number from 1 to {max}.")

_SPLIT = re.compile(r"\s*[/／|｜]\s*")
_PRICE = re.compile(r"^\d{1,6}(\.\d{1,2})?$")


@dataclass(frozen=True)
class RewardDraft:
    title: str
    price: int
    stock: int


def parse_reward(text: str) -> RewardDraft:
    """``爱心雨伞 / 20 / 5`` → title, price in hundredths, stock; raises :class:`InvalidInput`."""
    parts = _SPLIT.split(text.strip())
    if len(parts) != 3:
        raise InvalidInput(REWARD_FORMAT)
    title = clean_free_text(parts[0], min_length=2, max_length=REWARD_TITLE_MAX)
    price_text = unicodedata.normalize("NFKC", parts[1]).strip().replace("，", ".")
    stock_text = unicodedata.normalize("NFKC", parts[2]).strip()
    if not _PRICE.fullmatch(price_text):
        raise InvalidInput(REWARD_PRICE, {"max": MAX_PRICE_POINTS})
    whole, _, cents = price_text.partition(".")
    price = int(whole) * UNIT + int((cents + "00")[:2])
    if not 0 < price <= MAX_PRICE_POINTS * UNIT:
        raise InvalidInput(REWARD_PRICE, {"max": MAX_PRICE_POINTS})
    if not (stock_text.isascii() and stock_text.isdigit() and 1 <= int(stock_text) <= MAX_STOCK):
        raise InvalidInput(REWARD_STOCK, {"max": MAX_STOCK})
    return RewardDraft(title, price, int(stock_text))


class PointsRefusal(StrEnum):
    SOLD_OUT = "sold_out"  # the stock ran out (another volunteer was faster)
    NOT_ENOUGH_POINTS = "not_enough_points"
    NOT_FOUND = "not_found"  # no such reward or redemption, or not this volunteer's
    WITHDRAWN = "withdrawn"  # the reward is no longer offered
    PRICE_CHANGED = "price_changed"  # the button showed another price
    DECIDED = "decided"  # handed over or cancelled already
    NOT_REGISTERED = "not_registered"
    CONFIRMED = "confirmed"  # the activity's hours are confirmed: its tier is fixed


class PointsRefused(Refused):
    def __init__(self, reason: PointsRefusal) -> None:
        super().__init__(reason)
        self.reason: PointsRefusal = reason
