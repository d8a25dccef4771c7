"""The points ledger, the credit for service records, and rewards (migration 0022).

Every transfer is written by :func:`transfer_in`: the guarded debit first (a conditional
``UPDATE … WHERE balance >= ?`` whose row count says whether the money is there — on SQLite the
write lock serializes transactions, on PostgreSQL the UPDATE locks the row and re-checks the
condition on the committed balance, so two processes can never both spend the last point), then
the credit, the transfer row and its two movements (``-amount`` and ``+amount``: they sum to
zero). ``CHECK (kind = 'issuer' OR balance >= 0)`` is the backstop.

Service records are credited by :meth:`PointsRepository.settle_in`: it selects the records whose
confirmed minutes differ from what was credited (or were never credited) and moves the
difference, with a compare-and-set on ``record_points`` so the periodic sweep, a second process
and the lead's confirm step can all run it without crediting anything twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.notifications import Notification
from bot.domain.points import (
    AccountKind,
    Movement,
    PointsRefusal,
    PointsRefused,
    PointTier,
    Redemption,
    RedemptionStatus,
    Reward,
    TransferKind,
    points_for,
)
from storage.db import Database, Row, Transaction
from storage.outbox import OutboxRepository
from storage.timeutil import from_db_time, to_db_time

#: Records credited per sweep transaction batch (the rest wait for the next run).
SETTLE_BATCH = 500


@dataclass(frozen=True)
class Settled:
    """What a settlement did: records credited and the volunteers whose hours changed."""

    records: int
    volunteer_ids: frozenset[int]


@dataclass(frozen=True)
class TierRow:
    activity_id: int
    title: str
    starts_at: datetime
    tier: PointTier


async def singleton_account_in(tx: Transaction, kind: AccountKind) -> int:
    row = await tx.fetch_one(
        "SELECT account_id FROM point_accounts WHERE kind = ? LIMIT 1", (kind.value,)
    )
    assert row is not None, f"migration 0022 creates the {kind} account"
    return int(row["account_id"])


async def volunteer_account_in(tx: Transaction, volunteer_id: int, now: datetime) -> int:
    await tx.execute(
        "INSERT INTO point_accounts (kind, volunteer_id, balance, created_at) "
        "VALUES ('volunteer', ?, 0, ?) ON CONFLICT (volunteer_id) DO NOTHING",
        (volunteer_id, to_db_time(now)),
    )
    row = await tx.fetch_one(
        "SELECT account_id FROM point_accounts WHERE volunteer_id = ?", (volunteer_id,)
    )
    assert row is not None
    return int(row["account_id"])


async def organization_account_in(tx: Transaction, organization_id: int, now: datetime) -> int:
    await tx.execute(
        "INSERT INTO point_accounts (kind, organization_id, balance, created_at) "
        "VALUES ('organization', ?, 0, ?) ON CONFLICT (organization_id) DO NOTHING",
        (organization_id, to_db_time(now)),
    )
    row = await tx.fetch_one(
        "SELECT account_id FROM point_accounts WHERE organization_id = ?", (organization_id,)
    )
    assert row is not None
    return int(row["account_id"])


async def transfer_in(
    tx: Transaction,
    kind: TransferKind,
    debit: int,
    credit: int,
    amount: int,
    now: datetime,
    *,
    record_id: int | None = None,
    redemption_id: int | None = None,
    by: int | None = None,
) -> int | None:
    """Move ``amount`` (> 0) from ``debit`` to ``credit``; the transfer id, or ``None`` (and
    nothing written) when ``debit`` does not hold ``amount``. The issuing account is the only
    one debited without the guard: issuing points is what it is for."""
    if amount <= 0:
        raise ValueError(f"a transfer moves a positive amount, not {amount}")
    taken = await tx.execute(
        "UPDATE point_accounts SET balance = balance - ? "
        "WHERE account_id = ? AND (kind = 'issuer' OR balance >= ?)",
        (amount, debit, amount),
    )
    if not taken:
        return None
    await tx.execute(
        "UPDATE point_accounts SET balance = balance + ? WHERE account_id = ?", (amount, credit)
    )
    row = await tx.fetch_one(
        "INSERT INTO point_transfers (kind, record_id, redemption_id, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING transfer_id",
        (kind.value, record_id, redemption_id, by, to_db_time(now)),
    )
    assert row is not None
    transfer_id = int(row["transfer_id"])
    await tx.execute_many(
        "INSERT INTO point_movements (transfer_id, account_id, amount) VALUES (?, ?, ?)",
        [(transfer_id, debit, -amount), (transfer_id, credit, amount)],
    )
    return transfer_id


def _to_reward(row: Row) -> Reward:
    return Reward(
        reward_id=row["reward_id"],
        organization_id=row["organization_id"],
        offered_by=row["organization_name"],
        title=row["title"],
        price=row["price"],
        stock=row["stock"],
        is_active=bool(row["is_active"]),
    )


def _to_redemption(row: Row) -> Redemption:
    return Redemption(
        redemption_id=row["redemption_id"],
        reward_id=row["reward_id"],
        volunteer_id=row["volunteer_id"],
        reward_title=row["title"],
        organization_id=row["organization_id"],
        price=row["price"],
        status=RedemptionStatus(row["status"]),
        redeemed_at=from_db_time(row["redeemed_at"]),
        decided_at=from_db_time(row["decided_at"]) if row["decided_at"] else None,
        volunteer_name=row["real_name"],
    )


_REWARD_SELECT = (
    "SELECT w.*, o.name AS organization_name FROM rewards w "
    "LEFT JOIN organizations o ON o.organization_id = w.organization_id "
)
_REDEMPTION_SELECT = (
    "SELECT d.*, w.title, w.organization_id, v.real_name FROM reward_redemptions d "
    "JOIN rewards w ON w.reward_id = d.reward_id "
    "JOIN volunteers v ON v.volunteer_id = d.volunteer_id "
)


class PointsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- crediting service records -----------------------------------------------------------

    @staticmethod
    async def settle_in(
        tx: Transaction,
        now: datetime,
        points_per_hour: int,
        *,
        activity_id: int | None = None,
        limit: int = SETTLE_BATCH,
    ) -> Settled:
        """Credit the records whose minutes changed since they were credited (or never were),
        all of them or one activity's; idempotent, safe beside another process doing the same.

        A downward correction takes back the difference, but only what the volunteer still
        holds (points already spent on a reward stay spent; the balance never goes below zero):
        ``record_points.points`` is what was really moved for the record."""
        where = "(p.record_id IS NULL OR p.minutes <> r.minutes)"
        params: list[object] = []
        if activity_id is not None:
            where += " AND r.activity_id = ?"
            params.append(activity_id)
        rows = await tx.fetch_all(
            "SELECT r.record_id, r.volunteer_id, r.minutes, p.minutes AS credited_minutes, "
            "p.points AS credited, COALESCE(p.tier, a.point_tier, 'standard') AS tier "
            "FROM service_records r "
            "LEFT JOIN record_points p ON p.record_id = r.record_id "
            "LEFT JOIN activities a ON a.activity_id = r.activity_id "
            f"WHERE {where} ORDER BY r.record_id LIMIT ?",
            (*params, limit),
        )
        if not rows:
            return Settled(0, frozenset())
        issuer = await singleton_account_in(tx, AccountKind.ISSUER)
        stamp = to_db_time(now)
        settled = 0
        touched: set[int] = set()
        for row in rows:
            tier = PointTier(row["tier"])
            target = points_for(row["minutes"], tier, points_per_hour)
            volunteer = row["volunteer_id"]
            account = await volunteer_account_in(tx, volunteer, now)
            if row["credited_minutes"] is None:
                inserted = await tx.execute(
                    "INSERT INTO record_points (record_id, volunteer_id, tier, minutes, points, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO NOTHING",
                    (row["record_id"], volunteer, tier.value, row["minutes"], target, stamp),
                )
                if not inserted:
                    continue
                if target > 0:
                    await transfer_in(
                        tx,
                        TransferKind.SERVICE,
                        issuer,
                        account,
                        target,
                        now,
                        record_id=row["record_id"],
                    )
            else:
                credited = int(row["credited"])
                delta = target - credited
                if delta < 0:
                    # Lock the volunteer's balance row and read it (a no-op UPDATE: PostgreSQL
                    # waits for a redemption in flight), then take back at most what is there.
                    held = await tx.fetch_one(
                        "UPDATE point_accounts SET balance = balance WHERE account_id = ? "
                        "RETURNING balance",
                        (account,),
                    )
                    assert held is not None
                    delta = -min(-delta, int(held["balance"]))
                changed = await tx.execute(
                    "UPDATE record_points SET minutes = ?, points = ?, updated_at = ? "
                    "WHERE record_id = ? AND minutes = ? AND points = ?",
                    (
                        row["minutes"],
                        credited + delta,
                        stamp,
                        row["record_id"],
                        row["credited_minutes"],
                        credited,
                    ),
                )
                if not changed:
                    continue
                if delta:
                    debit, credit = (issuer, account) if delta > 0 else (account, issuer)
                    moved = await transfer_in(
                        tx,
                        TransferKind.CORRECTION,
                        debit,
                        credit,
                        abs(delta),
                        now,
                        record_id=row["record_id"],
                    )
                    if moved is None:  # impossible: the row is locked and was read above
                        raise RuntimeError(f"balance of account {account} changed under a lock")
            settled += 1
            touched.add(volunteer)
        return Settled(settled, frozenset(touched))

    async def settle(
        self, now: datetime, points_per_hour: int, *, limit: int = SETTLE_BATCH
    ) -> Settled:
        async with self._db.transaction() as tx:
            return await self.settle_in(tx, now, points_per_hour, limit=limit)

    # -- tiers ------------------------------------------------------------------------------

    async def set_tier(self, activity_id: int, tier: PointTier, now: datetime) -> bool:
        """Set an activity's tier; ``False`` once its hours are confirmed (the tier is fixed)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE activities SET point_tier = ?, updated_at = ? "
                "WHERE activity_id = ? AND hours_confirmed_at IS NULL",
                (tier.value, to_db_time(now), activity_id),
            )
        return changed > 0

    async def tier_of(self, activity_id: int) -> PointTier | None:
        row = await self._db.fetch_one(
            "SELECT point_tier FROM activities WHERE activity_id = ?", (activity_id,)
        )
        return PointTier(row["point_tier"]) if row is not None else None

    async def open_tiers(self, organization_ids: Sequence[int], limit: int) -> list[TierRow]:
        """Activities of these organizations whose hours are not confirmed, soonest first."""
        if not organization_ids:
            return []
        marks = ", ".join("?" for _ in organization_ids)
        rows = await self._db.fetch_all(
            "SELECT activity_id, title, starts_at, point_tier FROM activities "
            f"WHERE organization_id IN ({marks}) AND hours_confirmed_at IS NULL "
            "AND status <> 'cancelled' ORDER BY starts_at, activity_id LIMIT ?",
            (*organization_ids, limit),
        )
        return [
            TierRow(
                r["activity_id"],
                r["title"],
                from_db_time(r["starts_at"]),
                PointTier(r["point_tier"]),
            )
            for r in rows
        ]

    # -- balances and history ---------------------------------------------------------------

    async def balance(self, volunteer_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT balance FROM point_accounts WHERE volunteer_id = ?", (volunteer_id,)
        )
        return int(row["balance"]) if row is not None else 0

    async def history(self, volunteer_id: int, limit: int) -> list[Movement]:
        rows = await self._db.fetch_all(
            "SELECT t.transfer_id, t.kind, m.amount, t.created_at, "
            "COALESCE(r.activity_title, w.title, '') AS about "
            "FROM point_movements m "
            "JOIN point_accounts a ON a.account_id = m.account_id "
            "JOIN point_transfers t ON t.transfer_id = m.transfer_id "
            "LEFT JOIN service_records r ON r.record_id = t.record_id "
            "LEFT JOIN reward_redemptions d ON d.redemption_id = t.redemption_id "
            "LEFT JOIN rewards w ON w.reward_id = d.reward_id "
            "WHERE a.volunteer_id = ? ORDER BY m.transfer_id DESC LIMIT ?",
            (volunteer_id, limit),
        )
        return [
            Movement(
                transfer_id=r["transfer_id"],
                kind=TransferKind(r["kind"]),
                amount=int(r["amount"]),
                created_at=from_db_time(r["created_at"]),
                about=r["about"],
            )
            for r in rows
        ]

    # -- rewards ----------------------------------------------------------------------------

    async def add_reward(
        self,
        organization_id: int | None,
        title: str,
        price: int,
        stock: int,
        by: int,
        now: datetime,
    ) -> Reward:
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            account = (
                await organization_account_in(tx, organization_id, now)
                if organization_id is not None
                else await singleton_account_in(tx, AccountKind.FEDERATION)
            )
            row = await tx.fetch_one(
                "INSERT INTO rewards (organization_id, account_id, title, price, stock, "
                "is_active, created_by, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING reward_id",
                (organization_id, account, title, price, stock, by, stamp, stamp),
            )
            assert row is not None
            reward_id = int(row["reward_id"])
        found = await self.reward(reward_id)
        assert found is not None
        return found

    async def withdraw_reward(self, reward_id: int, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE rewards SET is_active = 0, updated_at = ? "
                "WHERE reward_id = ? AND is_active = 1",
                (to_db_time(now), reward_id),
            )
        return changed > 0

    async def reward(self, reward_id: int) -> Reward | None:
        row = await self._db.fetch_one(_REWARD_SELECT + "WHERE w.reward_id = ?", (reward_id,))
        return _to_reward(row) if row is not None else None

    async def offered(self, limit: int) -> list[Reward]:
        """Rewards on offer: in stock first, then by price."""
        rows = await self._db.fetch_all(
            _REWARD_SELECT + "WHERE w.is_active = 1 "
            "ORDER BY CASE WHEN w.stock > 0 THEN 0 ELSE 1 END, w.price, w.reward_id LIMIT ?",
            (limit,),
        )
        return [_to_reward(row) for row in rows]

    async def rewards_of(self, organization_id: int | None, limit: int) -> list[Reward]:
        """One issuer's active rewards (``None``: the federation's)."""
        condition = (
            "w.organization_id = ?" if organization_id is not None else "w.organization_id IS NULL"
        )
        params: tuple[object, ...] = (organization_id,) if organization_id is not None else ()
        rows = await self._db.fetch_all(
            _REWARD_SELECT + f"WHERE {condition} AND w.is_active = 1 ORDER BY w.reward_id LIMIT ?",
            (*params, limit),
        )
        return [_to_reward(row) for row in rows]

    async def redeem(
        self,
        reward_id: int,
        volunteer_id: int,
        price_seen: int,
        now: datetime,
        notify: Sequence[Notification],
    ) -> Redemption:
        """Take one item and pay for it in one transaction; raises :class:`PointsRefused`
        (everything rolled back) when it is gone, withdrawn, repriced or not affordable.

        The stock is taken by ``UPDATE … WHERE stock >= 1`` (never oversold, the CHECK is the
        backstop) and the points by the guarded debit of :func:`transfer_in`."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            taken = await tx.fetch_one(
                "UPDATE rewards SET stock = stock - 1, updated_at = ? "
                "WHERE reward_id = ? AND is_active = 1 AND stock >= 1 AND price = ? "
                "RETURNING account_id, price",
                (stamp, reward_id, price_seen),
            )
            if taken is None:
                state = await tx.fetch_one(
                    "SELECT is_active, stock, price FROM rewards WHERE reward_id = ?", (reward_id,)
                )
                if state is None:
                    raise PointsRefused(PointsRefusal.NOT_FOUND)
                if not state["is_active"]:
                    raise PointsRefused(PointsRefusal.WITHDRAWN)
                if state["price"] != price_seen:
                    raise PointsRefused(PointsRefusal.PRICE_CHANGED)
                raise PointsRefused(PointsRefusal.SOLD_OUT)
            price = int(taken["price"])
            account = await volunteer_account_in(tx, volunteer_id, now)
            row = await tx.fetch_one(
                "INSERT INTO reward_redemptions (reward_id, volunteer_id, price, status, "
                "redeemed_at) VALUES (?, ?, ?, 'reserved', ?) RETURNING redemption_id",
                (reward_id, volunteer_id, price, stamp),
            )
            assert row is not None
            redemption_id = int(row["redemption_id"])
            paid = await transfer_in(
                tx,
                TransferKind.REDEMPTION,
                account,
                int(taken["account_id"]),
                price,
                now,
                redemption_id=redemption_id,
            )
            if paid is None:
                raise PointsRefused(PointsRefusal.NOT_ENOUGH_POINTS)  # rolls the stock back too
            for notification in notify:
                await OutboxRepository.enqueue(
                    tx,
                    notification.model_copy(
                        update={
                            "subject": f"redemption:{redemption_id}",
                            "payload": {**notification.payload, "redemption": redemption_id},
                        }
                    ),
                    now,
                )
        found = await self.redemption(redemption_id)
        assert found is not None
        return found

    async def hand_over(self, redemption_id: int, by: int, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE reward_redemptions SET status = 'handed_over', decided_at = ?, "
                "decided_by = ? WHERE redemption_id = ? AND status = 'reserved'",
                (to_db_time(now), by, redemption_id),
            )
        return changed > 0

    async def cancel(self, redemption_id: int, by: int | None, now: datetime) -> bool:
        """Cancel a redemption not handed over yet: the item back in stock, the points back to
        the volunteer (a refund transfer from the reward's account, which received them)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "UPDATE reward_redemptions SET status = 'cancelled', decided_at = ?, "
                "decided_by = ? WHERE redemption_id = ? AND status = 'reserved' "
                "RETURNING reward_id, volunteer_id, price",
                (stamp, by, redemption_id),
            )
            if row is None:
                return False
            reward = await tx.fetch_one(
                "UPDATE rewards SET stock = stock + 1, updated_at = ? WHERE reward_id = ? "
                "RETURNING account_id",
                (stamp, row["reward_id"]),
            )
            assert reward is not None
            account = await volunteer_account_in(tx, row["volunteer_id"], now)
            refunded = await transfer_in(
                tx,
                TransferKind.REFUND,
                int(reward["account_id"]),
                account,
                int(row["price"]),
                now,
                redemption_id=redemption_id,
                by=by,
            )
            if refunded is None:  # the reward account received this price; it cannot lack it
                raise RuntimeError(f"reward account {reward['account_id']} cannot refund")
        return True

    async def redemption(self, redemption_id: int) -> Redemption | None:
        row = await self._db.fetch_one(
            _REDEMPTION_SELECT + "WHERE d.redemption_id = ?", (redemption_id,)
        )
        return _to_redemption(row) if row is not None else None

    async def redemptions_of(self, volunteer_id: int, limit: int) -> list[Redemption]:
        rows = await self._db.fetch_all(
            _REDEMPTION_SELECT + "WHERE d.volunteer_id = ? "
            "ORDER BY d.redeemed_at DESC, d.redemption_id DESC LIMIT ?",
            (volunteer_id, limit),
        )
        return [_to_redemption(row) for row in rows]

    async def waiting(
        self, organization_ids: Sequence[int], federation: bool, limit: int
    ) -> list[Redemption]:
        """Redemptions to hand over: of these organizations' rewards (and the federation's)."""
        conditions = []
        params: list[object] = []
        if organization_ids:
            conditions.append(
                "w.organization_id IN (" + ", ".join("?" for _ in organization_ids) + ")"
            )
            params += organization_ids
        if federation:
            conditions.append("w.organization_id IS NULL")
        if not conditions:
            return []
        rows = await self._db.fetch_all(
            _REDEMPTION_SELECT
            + "WHERE d.status = 'reserved' AND ("
            + " OR ".join(conditions)
            + ") ORDER BY d.redeemed_at, d.redemption_id LIMIT ?",
            (*params, limit),
        )
        return [_to_redemption(row) for row in rows]

    async def staff_of(self, organization_id: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
            "ORDER BY member_role, telegram_id",
            (organization_id,),
        )
        return [int(row["telegram_id"]) for row in rows]

    # -- invariants (tests and the consistency check) ---------------------------------------

    async def ledger_problems(self) -> list[str]:
        """Empty when the ledger holds: every transfer sums to zero, every balance is the sum
        of its movements, no account but the issuer is negative."""
        problems = [
            f"transfer {r['transfer_id']} sums to {r['total']}"
            for r in await self._db.fetch_all(
                "SELECT transfer_id, SUM(amount) AS total FROM point_movements "
                "GROUP BY transfer_id HAVING SUM(amount) <> 0"
            )
        ]
        problems += [
            f"account {r['account_id']} balance {r['balance']} but movements {r['total']}"
            for r in await self._db.fetch_all(
                "SELECT a.account_id, a.balance, COALESCE(SUM(m.amount), 0) AS total "
                "FROM point_accounts a LEFT JOIN point_movements m "
                "ON m.account_id = a.account_id GROUP BY a.account_id, a.balance "
                "HAVING a.balance <> COALESCE(SUM(m.amount), 0)"
            )
        ]
        problems += [
            f"account {r['account_id']} is negative ({r['balance']})"
            for r in await self._db.fetch_all(
                "SELECT account_id, balance FROM point_accounts "
                "WHERE kind <> 'issuer' AND balance < 0"
            )
        ]
        return problems
