"""The points ledger (issue #17): crediting confirmed hours, corrections, rewards and the
invariants — every transfer sums to zero, a balance is the sum of its movements, no account but
the issuer is ever negative — including 50 redemptions of the last item at once through two
``Database`` objects (two processes)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.points import (
    PointsRefusal,
    PointsRefused,
    PointTier,
    RedemptionStatus,
    format_points,
    parse_reward,
    points_for,
)
from bot.domain.validation import InvalidInput
from storage.backends import open_database
from storage.db import Database
from storage.points import PointsRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record


def test_points_for_tiers_and_rounding() -> None:
    assert points_for(60, PointTier.STANDARD, 1) == 100
    assert points_for(30, PointTier.SKILLED, 1) == 75
    assert points_for(90, PointTier.DEMANDING, 1) == 300
    assert points_for(1, PointTier.STANDARD, 1) == 1  # 1.67 hundredths, rounded down
    assert points_for(120, PointTier.SKILLED, 10) == 3000
    assert [format_points(v) for v in (0, 100, 150, 75, 1275, -250)] == [
        "0",
        "1",
        "1.5",
        "0.75",
        "12.75",
        "-2.5",
    ]


def test_parse_reward() -> None:
    draft = parse_reward("爱心雨伞 / 20 / 5")
    assert (draft.title, draft.price, draft.stock) == ("爱心雨伞", 2000, 5)
    assert parse_reward("Cinema ticket｜12.5｜３").price == 1250
    for bad in ("雨伞 20 5", "雨伞 / twenty / 5", "雨伞 / 20 / 0", "雨伞 / 0 / 3", "x / 1 / 1"):
        with pytest.raises(InvalidInput):
            parse_reward(bad)


async def _served(db: Database, minutes: list[int], tier: PointTier = PointTier.STANDARD) -> int:
    """A volunteer with one record per entry of ``minutes``; their volunteer id."""
    organization = await add_organization(db, now=NOW)
    volunteer = await add_volunteer(db, now=NOW)
    for index, amount in enumerate(minutes):
        activity = await add_activity(
            db, organization, starts_in=-timedelta(days=index + 1), now=NOW
        )
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE activities SET point_tier = ? WHERE activity_id = ?",
                (tier.value, activity.activity_id),
            )
        await add_record(db, activity, volunteer.volunteer_id, NOW, minutes=amount)
    return volunteer.volunteer_id


async def test_settling_credits_once_and_corrections_balance(db: Database) -> None:
    points = PointsRepository(db)
    vid = await _served(db, [120, 90], PointTier.SKILLED)
    first = await points.settle(NOW, 1)
    assert first.records == 2 and first.volunteer_ids == {vid}
    assert await points.balance(vid) == 300 + 225
    # Idempotent: nothing changed, nothing moves.
    assert (await points.settle(NOW, 1)).records == 0
    assert await points.balance(vid) == 525

    # A correction up (120 → 180 min): one balancing transfer of the difference.
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE service_records SET minutes = 180 WHERE volunteer_id = ? AND minutes = 120",
            (vid,),
        )
    assert (await points.settle(NOW, 1)).records == 1
    assert await points.balance(vid) == 450 + 225
    kinds = [m.kind.value for m in await points.history(vid, 10)]
    assert kinds == ["correction", "service", "service"]

    # A correction down after the volunteer spent most points: only what is left goes back.
    organization = await add_organization(db, name="礼品协会", now=NOW)
    reward = await points.add_reward(
        organization.organization_id, "雨伞", 600, 1, await add_user(db), NOW
    )
    await points.redeem(reward.reward_id, vid, 600, NOW, [])
    assert await points.balance(vid) == 75
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE service_records SET minutes = 0 WHERE volunteer_id = ? AND minutes = 180",
            (vid,),
        )
    await points.settle(NOW, 1)
    assert await points.balance(vid) == 0
    assert await points.ledger_problems() == []
    credited = await db.fetch_one(
        "SELECT SUM(points) AS total FROM record_points WHERE volunteer_id = ?", (vid,)
    )
    assert credited is not None and credited["total"] == 600  # 675 credited, 75 taken back


async def test_redeem_refuses_without_points_and_rolls_back_the_stock(db: Database) -> None:
    points = PointsRepository(db)
    vid = await _served(db, [60])
    await points.settle(NOW, 1)
    reward = await points.add_reward(None, "Federation mug", 150, 2, await add_user(db), NOW)
    with pytest.raises(PointsRefused) as refused:
        await points.redeem(reward.reward_id, vid, 150, NOW, [])
    assert refused.value.reason is PointsRefusal.NOT_ENOUGH_POINTS
    still = await points.reward(reward.reward_id)
    assert still is not None and still.stock == 2
    with pytest.raises(PointsRefused) as repriced:
        await points.redeem(reward.reward_id, vid, 100, NOW, [])
    assert repriced.value.reason is PointsRefusal.PRICE_CHANGED

    cheap = await points.add_reward(None, "Sticker", 40, 1, await add_user(db), NOW)
    done = await points.redeem(cheap.reward_id, vid, 40, NOW, [])
    assert done.status is RedemptionStatus.RESERVED and await points.balance(vid) == 60
    with pytest.raises(PointsRefused) as sold_out:
        await points.redeem(cheap.reward_id, vid, 40, NOW, [])
    assert sold_out.value.reason is PointsRefusal.SOLD_OUT
    # Cancelling refunds and restocks; twice changes nothing more.
    assert await points.cancel(done.redemption_id, None, NOW)
    assert not await points.cancel(done.redemption_id, None, NOW)
    assert await points.balance(vid) == 100
    back = await points.reward(cheap.reward_id)
    assert back is not None and back.stock == 1
    assert await points.ledger_problems() == []


async def test_a_balance_never_goes_negative_even_by_hand(db: Database) -> None:
    vid = await _served(db, [60])
    await PointsRepository(db).settle(NOW, 1)
    with pytest.raises(Exception, match=r"(?i)check"):
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE point_accounts SET balance = balance - 101 WHERE volunteer_id = ?", (vid,)
            )


async def test_fifty_redemptions_of_the_last_item_through_two_processes(
    db: Database, db_path: Path
) -> None:
    """50 volunteers with enough points press "redeem" on the last item at once, half through
    each of two ``Database`` objects: exactly one gets it. And one volunteer pressing 50 times
    at once on a well-stocked reward pays only what the balance holds."""
    points = PointsRepository(db)
    organization = await add_organization(db, now=NOW)
    activity = await add_activity(db, organization, starts_in=-timedelta(days=1), now=NOW)
    racers = []
    for _ in range(50):
        volunteer = await add_volunteer(db, now=NOW)
        await add_record(db, activity, volunteer.volunteer_id, NOW, minutes=120)
        racers.append(volunteer.volunteer_id)
    await points.settle(NOW, 1)
    last = await points.add_reward(
        organization.organization_id, "最后一张电影票", 150, 1, await add_user(db), NOW
    )

    second = await open_database(db_path)
    try:
        other = PointsRepository(second)

        async def attempt(repo: PointsRepository, vid: int, reward_id: int) -> bool:
            try:
                await repo.redeem(reward_id, vid, 150, NOW, [])
            except PointsRefused as refused:
                assert refused.reason is PointsRefusal.SOLD_OUT
                return False
            return True

        results = await asyncio.gather(
            *(
                attempt(points if index % 2 else other, vid, last.reward_id)
                for index, vid in enumerate(racers)
            )
        )
        assert sum(results) == 1
        stock = await points.reward(last.reward_id)
        assert stock is not None and stock.stock == 0
        sold = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM reward_redemptions WHERE reward_id = ?", (last.reward_id,)
        )
        assert sold is not None and sold["n"] == 1

        # One volunteer (200 points) presses 50 times on a reward of 150 with plenty of stock.
        plenty = await points.add_reward(
            organization.organization_id, "矿泉水", 150, 100, await add_user(db), NOW
        )
        rich = racers[0] if not results[0] else racers[1]
        presses = await asyncio.gather(
            *(
                (points if index % 2 else other).redeem(plenty.reward_id, rich, 150, NOW, [])
                for index in range(50)
            ),
            return_exceptions=True,
        )
        won = [p for p in presses if not isinstance(p, BaseException)]
        lost = [p for p in presses if isinstance(p, PointsRefused)]
        assert len(won) == 1 and len(lost) == 49
        assert all(p.reason is PointsRefusal.NOT_ENOUGH_POINTS for p in lost)
        assert await points.balance(rich) == 50
        left = await points.reward(plenty.reward_id)
        assert left is not None and left.stock == 99
    finally:
        await second.close()
    assert await points.ledger_problems() == []
    total = await db.fetch_one("SELECT COALESCE(SUM(amount), 0) AS s FROM point_movements")
    assert total is not None and total["s"] == 0
    negative = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM point_accounts WHERE kind <> 'issuer' AND balance < 0"
    )
    assert negative is not None and negative["n"] == 0


async def test_settling_from_two_processes_credits_each_record_once(
    db: Database, db_path: Path
) -> None:
    organization = await add_organization(db, now=NOW)
    activity = await add_activity(db, organization, starts_in=-timedelta(days=1), now=NOW)
    vids = []
    for _ in range(20):
        volunteer = await add_volunteer(db, now=NOW)
        await add_record(db, activity, volunteer.volunteer_id, NOW, minutes=60)
        vids.append(volunteer.volunteer_id)
    second = await open_database(db_path)
    try:
        await asyncio.gather(
            *(
                PointsRepository(database).settle(NOW, 1, limit=7)
                for database in (db, second, db, second, db, second)
            )
        )
    finally:
        await second.close()
    points = PointsRepository(db)
    # Racing runs may pick the same batch (PostgreSQL, READ COMMITTED): the loser skips those
    # records, and whatever is left is settled by the next run. Nothing is ever credited twice.
    while (await points.settle(NOW, 1)).records:
        pass
    assert [await points.balance(vid) for vid in vids] == [100] * 20
    assert await points.ledger_problems() == []
