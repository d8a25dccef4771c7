"""Outbox delivery benchmark (issue #6): 10,000 real reminders sent by the real
:class:`bot.delivery.Deliverer` — inside the bot as ``zhiyuan run`` starts it (BotRuntime, the
repeating outbox job, PTB's ExtBot with :class:`bot.delivery.DeliveryRateLimiter`, every
handler module registered, so reminders go through ``handlers.reminders.render_reminder``) — to
the project's local Bot API server with Telegram-like flood limits on and a simulated network
round trip.

    python -m bench.delivery [--rows 10000] [--users 2500] [--latency 0.1] [--stand-in]
                             [--replies 0] [--bucket] [--profile FILE]

Target (issue #14): at least 27 messages per second sustained (the default
``SEND_RATE_PER_SECOND`` is 28), none lost, no duplicates, and no 429 under a strict window.

The data set is seeded with bulk ``INSERT`` s: ``--users`` volunteers (users + profiles, private
chats opened on the server), organizations and published activities starting between 30 minutes
and 2 hours after the delivery time, and confirmed sign-ups so that, with the settings'
``REMINDER_OFFSETS`` (24h, 2h), ``--rows`` reminders are due (2,500 volunteers × 2 sign-ups × 2
offsets). The reminders are then planned by the real
:meth:`bot.services.reminders.ReminderService.plan_signup` (the clock two days before the
activities), the :class:`~bot.clock.ManualClock` is moved to the delivery time (09:00 Shanghai,
outside quiet hours — reminders ignore them anyway) and the outbox job sends. Each sent reminder
renders from the database (sign-up, volunteer, activity), and the "Still coming?" one records
``still_coming_asked_at`` after it went out, as in production.

``--replies N`` has other people write ``/help`` to the bot, N a second in all (each of them at
most once every three seconds), while the reminders go out: their answers count in the same
strict window, so the bulk rate printed is what the pacer leaves them, and a 429 to either shows.

``--stand-in`` runs the older variant instead: the same number of ``REMINDER`` rows inserted
directly with a renderer that formats the row number without database reads (the transport
alone, for comparison). ``--profile FILE`` writes a cProfile of the whole run (it slows the run
down; use it to see where the time goes, not for the figures). The figures are printed, never
asserted; the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import itertools
import json
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import Settings
from bot.delivery import Rendered
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.flood import FloodLimits
from bot.localapi.models import BotInfo, StoredMessage
from bot.runtime import BotRuntime
from handlers.reminders import StillComing
from handlers.signup_buttons import SignupCalendar
from storage.db import Database
from storage.timeutil import to_db_time

TOKEN = "123456:BENCH-delivery"
TARGET_RATE = 27.0
FIRST_USER = 100_000
#: The delivery time: Wednesday 2026-11-25 09:00 in Shanghai (outside the default quiet hours).
DELIVER_AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
#: Sign-ups are confirmed and reminders planned two days earlier: every offset is still ahead.
PLAN_AT = DELIVER_AT - timedelta(days=2)
#: Sign-ups per activity (the activity count follows from the number of sign-ups).
PER_ACTIVITY = 50
ORGANIZATIONS = 20

#: A notification as the server shows it: (chat id, "ask" / "plain" / "other", activity id or
#: text). See :func:`message_key`.
Key = tuple[int, str, int | str]


# -- the data set ---------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What the report checks the server's chats against."""

    #: Identity of every message that should arrive (see :func:`message_key`).
    expected: set[Key] = field(default_factory=set)
    recipients: list[int] = field(default_factory=list)


async def seed_reminders(
    db: Database, server: LocalBotApi, bot_info: Any, rows: int, users: int, settings: Settings
) -> tuple[Seeded, list[int], int]:
    """Volunteers, organizations, activities and confirmed sign-ups (bulk ``INSERT``); returns
    what to expect, the confirmed sign-up ids and the number of activities."""
    offsets = len(settings.reminder_offsets)
    if rows % (users * offsets):
        raise SystemExit(
            f"--rows must be a multiple of --users × {offsets} reminder offsets "
            f"({users * offsets:,}), got {rows:,}"
        )
    per_volunteer = rows // (users * offsets)  # sign-ups of each volunteer
    signups_total = users * per_volunteer
    activities = max(per_volunteer, -(-signups_total // PER_ACTIVITY))
    area = await db.fetch_one("SELECT code FROM areas WHERE is_active = 1 ORDER BY sort_order")
    category = await db.fetch_one(
        "SELECT code, name_zh FROM service_categories WHERE is_active = 1 ORDER BY sort_order"
    )
    assert area is not None and category is not None
    stamp = to_db_time(PLAN_AT - timedelta(days=30))
    user_rows = []
    volunteer_rows = []
    for index in range(users):
        uid = FIRST_USER + index
        # Mostly Chinese-speaking users, as in the city; a tenth read English.
        code = "en" if index % 10 == 0 else "zh-hans"
        user_rows.append((uid, f"志愿者{index}", code, stamp, stamp))
        volunteer_rows.append(
            (
                index + 1,
                uid,
                f"志愿者{index}",
                f"+86138{uid:08d}",
                "1990-01-01",
                stamp,
                stamp,
                stamp,
            )
        )
        server.open_private_chat(bot_info, VirtualUserInfo(id=uid, first_name="U"))
    org_rows = [
        (org, f"长沙志愿服务队{org}", "volunteer_team", area["code"], "李老师",
         f"+8613900{org:06d}", "approved", stamp, stamp, stamp)
        for org in range(1, ORGANIZATIONS + 1)
    ]  # fmt: skip
    counts = collections.Counter(
        (volunteer * per_volunteer + j) % activities
        for volunteer in range(users)
        for j in range(per_volunteer)
    )
    activity_rows = []
    for activity in range(activities):
        # Starts 30 min to 1 h 45 min after the delivery time: both reminders (24 h and 2 h
        # before) are due then and the activity has not started.
        starts = DELIVER_AT + timedelta(minutes=30 + 15 * (activity % 6))
        place = f"芙蓉区社区服务中心{activity + 1}号"
        activity_rows.append(
            (
                activity + 1,
                activity % ORGANIZATIONS + 1,
                f"{category['name_zh']}志愿服务 #{activity + 1}（{place}）",
                category["code"],
                to_db_time(starts),
                to_db_time(starts + timedelta(hours=3)),
                place,
                area["code"],
                28.19 if activity % 2 else None,  # half with a map pin (one more button)
                113.0 if activity % 2 else None,
                counts[activity] + 10,
                counts[activity],
                stamp,
                stamp,
                stamp,
            )
        )
    signup_rows = [
        (
            (volunteer * per_volunteer + j) % activities + 1,
            volunteer + 1,
            to_db_time(PLAN_AT - timedelta(minutes=1)),
        )
        for volunteer in range(users)
        for j in range(per_volunteer)
    ]
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO users (telegram_id, first_name, telegram_language_code, created_at, "
            "last_seen_at) VALUES (?, ?, ?, ?, ?)",
            user_rows,
        )
        await tx.execute_many(
            "INSERT INTO volunteers (volunteer_id, telegram_id, real_name, phone, birth_date, "
            "is_minor, availability, consent_version, consent_at, registered_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 0, 127, '2026-01', ?, ?, ?)",
            volunteer_rows,
        )
        await tx.execute_many(
            "INSERT INTO organizations (organization_id, name, org_type, area_code, "
            "contact_name, contact_phone, status, decided_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            org_rows,
        )
        await tx.execute_many(
            "INSERT INTO activities (activity_id, organization_id, title, category_code, "
            "starts_at, ends_at, place, area_code, latitude, longitude, capacity, "
            "confirmed_count, created_at, updated_at, published_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published')",
            activity_rows,
        )
        await tx.execute_many(
            "INSERT INTO signups (activity_id, volunteer_id, status, created_at, status_at) "
            "VALUES (?, ?, 'confirmed', ?, ?)",
            [(*row, row[2]) for row in signup_rows],
        )
    ids = await db.fetch_all(
        "SELECT s.signup_id, s.activity_id, v.telegram_id FROM signups s "
        "JOIN volunteers v ON v.volunteer_id = s.volunteer_id ORDER BY s.signup_id"
    )
    seeded = Seeded(recipients=[FIRST_USER + index for index in range(users)])
    for row in ids:
        for index in range(offsets):
            seeded.expected.add((row["telegram_id"], "ask" if index == 0 else "plain",
                                 row["activity_id"]))  # fmt: skip
    return seeded, [int(row["signup_id"]) for row in ids], activities


def message_key(chat_id: int, message: StoredMessage) -> Key:
    """Which notification a message on the server is: a reminder is (chat, "ask" or "plain",
    activity id), read from its buttons; any other message is keyed by its text."""
    data = [str(button.get("callback_data", "")) for button in message.buttons()]
    calendar = next((p for p in map(SignupCalendar.parse, data) if p is not None), None)
    if calendar is None:
        return (chat_id, "other", message.visible_text)
    asks = any(StillComing.parse(d) is not None for d in data)
    return (chat_id, "ask" if asks else "plain", calendar.activity_id)


async def render_stand_in(item: OutboxItem, services: object, t: object) -> Rendered:
    return Rendered(f"Reminder #{item.payload['n']}")


async def seed_stand_in(
    db: Database, server: LocalBotApi, bot_info: Any, rows: int, users: int, now: datetime
) -> Seeded:
    """The older variant: users only, and rows inserted directly with a stand-in payload."""
    stamp = to_db_time(now)
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO users (telegram_id, first_name, created_at, last_seen_at) "
            "VALUES (?, ?, ?, ?)",
            [(FIRST_USER + index, "U", stamp, stamp) for index in range(users)],
        )
        await tx.execute_many(
            "INSERT INTO outbox (dedup_key, kind, telegram_id, payload, due_at, created_at) "
            "VALUES (?, 'reminder', ?, ?, ?, ?)",
            (
                (f"bench:{n}", FIRST_USER + n % users, json.dumps({"n": n}), stamp, stamp)
                for n in range(rows)
            ),
        )
    for index in range(users):
        server.open_private_chat(bot_info, VirtualUserInfo(id=FIRST_USER + index, first_name="U"))
    seeded = Seeded(recipients=[FIRST_USER + index for index in range(users)])
    seeded.expected = {(FIRST_USER + n % users, "other", f"Reminder #{n}") for n in range(rows)}
    return seeded


# -- the run --------------------------------------------------------------------------------------


#: The people writing meanwhile (``--replies``): ids apart from the reminders' recipients.
FIRST_WRITER = 9_000_000


class Writers:
    """People who write ``/help`` at ``per_second`` in all while the outbox sends."""

    def __init__(self, server: LocalBotApi, bot_info: BotInfo, per_second: float) -> None:
        self.per_second = per_second
        count = max(1, round(per_second * 3))  # each writes at most every 3 s (1/s per chat)
        self.people = []
        for index in range(count if per_second > 0 else 0):
            info = VirtualUserInfo(id=FIRST_WRITER + index, first_name=f"W{index}")
            server.open_private_chat(bot_info, info)
            self.people.append(VirtualUser(server, bot_info, info))
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def answers(self) -> int:
        """Answers the bot sent them so far (the server counts them with the reminders)."""
        return sum(len(person.bot_messages()) for person in self.people)

    def start(self) -> None:
        if self.people:
            self._task = asyncio.create_task(self._write())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n in itertools.count():
            # On a schedule, so a slow send does not lower the offered rate.
            await asyncio.sleep(max(0.0, started + n / self.per_second - loop.time()))
            await self.people[n % len(self.people)].send("/help")
            self.written += 1


async def run(
    rows: int, users: int, latency: float, stand_in: bool, bucket: bool, replies: float = 0.0
) -> None:
    # 30 in any one second per bot (Telegram's, as a strict sliding window unless --bucket),
    # 1/s per private chat, 20/min per group.
    limits = FloodLimits(strict_window=not bucket)
    model = "a token bucket" if bucket else "a strict one-second window"
    print(
        f"Local Bot API with flood limits {limits.global_per_second:g}/s overall ({model}), "
        f"{limits.per_chat_per_second:g}/s per chat, {limits.per_group_per_minute:g}/min per "
        f"group; simulated round trip {latency * 1000:.0f} ms"
    )
    async with LocalBotApi(flood_limits=limits, latency=latency) as server:
        bot_info = server.add_bot(TOKEN, "zhiyuan_bench_bot", "Zhiyuan")
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                bot_token=TOKEN,
                bot_api_url=server.url,
                database_path=Path(tmp) / "bench.sqlite3",
            )
            clock = ManualClock(PLAN_AT)
            runtime = await BotRuntime.start(settings, clock=clock, poll_timeout=1)
            try:
                services = runtime.application.services
                db = runtime.db
                started = time.perf_counter()
                if stand_in:
                    clock.set(DELIVER_AT)
                    runtime.application.deliverer.register(
                        NotificationKind.REMINDER, render_stand_in
                    )
                    seeded = await seed_stand_in(db, server, bot_info, rows, users, DELIVER_AT)
                    print(
                        f"stand-in mode: {rows:,} due rows for {users:,} recipients inserted "
                        f"in {time.perf_counter() - started:.1f} s"
                    )
                else:
                    seeded, signup_ids, activities = await seed_reminders(
                        db, server, bot_info, rows, users, settings
                    )
                    seeded_in = time.perf_counter() - started
                    step = time.perf_counter()
                    planned = 0
                    async with db.transaction() as tx:
                        for signup_id in signup_ids:
                            planned += await services.reminders.plan_signup(tx, signup_id, PLAN_AT)
                    offsets = ", ".join(
                        f"{offset.total_seconds() / 3600:g}h"
                        for offset in services.reminders.offsets
                    )
                    print(
                        f"seeded {users:,} volunteers, {ORGANIZATIONS} organizations, "
                        f"{activities:,} activities, {len(signup_ids):,} confirmed sign-ups in "
                        f"{seeded_in:.1f} s; ReminderService planned {planned:,} reminders "
                        f"(offsets {offsets}) in {time.perf_counter() - step:.1f} s"
                    )
                    clock.set(DELIVER_AT)  # everything due, nothing started
                writers = Writers(server, bot_info, replies)
                if replies:
                    print(
                        f"{len(writers.people)} people write /help meanwhile, {replies:g}/s in all"
                    )
                print(f"clock at {clock().isoformat()}; the outbox job sends")
                server.stats.reset()
                cpu = time.process_time()
                writers.start()
                try:
                    samples = await watch(server, db, rows, writers.answers)
                finally:
                    await writers.stop()
                cpu = time.process_time() - cpu
                await asyncio.sleep(1.0)  # late duplicates would show up here
                statuses = await services.outbox.counts()
                kinds = await db.fetch_all(
                    "SELECT kind, status, COUNT(*) AS n FROM outbox GROUP BY kind, status "
                    "ORDER BY kind, status"
                )
                asked = await db.fetch_one(
                    "SELECT COUNT(*) AS n FROM signups WHERE still_coming_asked_at IS NOT NULL"
                )
            finally:
                await runtime.stop()
            report(server, bot_info.id, seeded, rows, users, samples, statuses, stand_in)
            if replies:
                answered = writers.answers()
                print(
                    f"answers meanwhile:       {answered:,} of {writers.written:,} /help written "
                    f"({replies:g}/s offered); the rates above are the reminders alone"
                )
            sent = server.stats.messages_sent
            seconds = samples[-1][0] if samples else 0.0
            per_message = cpu / max(1, sent) * 1000
            print(
                f"process CPU time:        {cpu:.1f} s while sending ({per_message:.1f} ms per "
                f"message, {cpu / max(seconds, 1e-9):.0%} of one core; the server runs in the "
                "same process)"
            )
            print("outbox rows by kind:     " + ", ".join(
                f"{row['kind']}/{row['status']} {row['n']:,}" for row in kinds))  # fmt: skip
            if not stand_in and asked is not None:
                print(f"sign-ups marked asked:   {asked['n']:,} (still_coming_asked_at set)")


async def watch(
    server: LocalBotApi, db: Database, rows: int, answers: Callable[[], int] = lambda: 0
) -> list[tuple[float, int, int]]:
    """Sample the server's counters every 0.25 s until the rows are sent or nothing is pending
    (the messages counted are the reminders: ``answers`` to people writing meanwhile are left
    out)."""
    started = time.monotonic()
    samples: list[tuple[float, int, int]] = []
    last_print = started
    while True:
        await asyncio.sleep(0.25)
        at = time.monotonic() - started
        bulk = server.stats.messages_sent - answers()
        samples.append((at, bulk, server.stats.too_many_requests))
        if time.monotonic() - last_print >= 30:
            last_print = time.monotonic()
            print(f"  {at:6.0f} s: {bulk:,} sent")
        if bulk >= rows:
            break
        pending = await db.fetch_one("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
        assert pending is not None
        if pending["n"] == 0 and at > 5:
            break  # everything finished, whether sent or not
        if at > rows / 5 + 60:
            print("  giving up waiting (below 5 msg/s)")
            break
    return samples


def report(
    server: LocalBotApi,
    bot_id: int,
    seeded: Seeded,
    rows: int,
    users: int,
    samples: list[tuple[float, int, int]],
    statuses: dict[str, int],
    stand_in: bool,
) -> None:
    delivered: collections.Counter[Key] = collections.Counter()
    examples: dict[str, str] = {}
    for uid in seeded.recipients:
        chat = server.find_chat(bot_id, uid)
        for message in chat.bot_messages() if chat else []:
            key = message_key(uid, message)
            delivered[key] += 1
            examples.setdefault(key[1], message.visible_text.splitlines()[0])
    missing = len(seeded.expected - set(delivered))
    unexpected = sum(count for key, count in delivered.items() if key not in seeded.expected)
    duplicates = sum(count - 1 for count in delivered.values() if count > 1)
    asks = sum(count for key, count in delivered.items() if key[1] == "ask")
    total_messages = sum(delivered.values())
    unsent = statuses.get("pending", 0) + statuses.get("failed", 0)
    first = next((t for t, sent, _ in samples if sent > 0), 0.0)
    sent = max((s for _, s, _ in samples), default=0)  # the reminders
    last = next((t for t, s, _ in samples if s >= sent), 0.0)
    rate = (sent / (last - first)) if last > first else 0.0
    # Slowest 10-second window between the first and the last message (0.25 s samples).
    window = 40
    rates = [
        (
            (samples[i + window][1] - samples[i][1]) / (samples[i + window][0] - samples[i][0]),
            samples[i][0] - first,
        )
        for i in range(len(samples) - window)
        if samples[i][0] >= first and samples[i + window][0] <= last
    ]
    too_many = samples[-1][2] if samples else 0
    worst_second = max(
        (samples[i + 4][2] - samples[i][2] for i in range(len(samples) - 4)),  # within ~1 s
        default=0,
    )
    print()
    print(f"sent by the server:      {sent:,} messages in {last - first:.1f} s")
    print(f"sustained rate:          {rate:.2f} msg/s (target >= {TARGET_RATE:g})")
    if rates:
        slowest, at = min(rates)
        print(
            f"slowest 10 s window:     {slowest:.2f} msg/s (from {at:.0f} s), fastest "
            f"{max(rates)[0]:.2f} msg/s"
        )
    print(f"lost:                    {unsent:,} rows pending/failed; {missing:,} expected "
          f"messages missing on the server")  # fmt: skip
    print(f"duplicates:              {duplicates:,} (same chat and notification more than once)")
    if unexpected:
        print(f"other messages:          {unexpected:,} (not one of the seeded notifications)")
    if not stand_in:
        share = asks / total_messages if total_messages else 0.0
        print(f'"Still coming?" share:   {asks:,} of {total_messages:,} ({share:.1%})')
    for kind, line in sorted(examples.items()):
        print(f"a message ({kind}):{' ' * (11 - len(kind))}{line[:70]}")
    print(f"429 answers:             {too_many:,} (at most {worst_second} within one second)")
    print(f"outbox rows by status:   {dict(sorted(statuses.items()))}")
    ok = rate >= TARGET_RATE and unsent == 0 and missing == 0 and duplicates == 0 and too_many == 0
    print(f"result:                  {'PASS' if ok else 'FAIL'}")
    mode = "stand-in renderer" if stand_in else "real reminders"
    print(
        f"(Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{rows:,} rows, {users:,} recipients, {mode})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=2_500)
    parser.add_argument("--latency", type=float, default=0.1, help="round trip in seconds")
    parser.add_argument(
        "--stand-in",
        action="store_true",
        help="directly inserted rows and a renderer without database reads (transport only)",
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the run here")
    parser.add_argument(
        "--bucket",
        action="store_true",
        help="the server's older flood model (a token bucket) instead of the strict window",
    )
    parser.add_argument(
        "--replies",
        type=float,
        default=0.0,
        metavar="N",
        help="other people write /help N times a second in all while the reminders go out",
    )
    args = parser.parse_args()
    coroutine = run(args.rows, args.users, args.latency, args.stand_in, args.bucket, args.replies)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            asyncio.run(coroutine)
        finally:
            profiler.disable()
            profiler.dump_stats(args.profile)
            print(f"profile written to {args.profile} (python -m pstats {args.profile})")
    else:
        asyncio.run(coroutine)


if __name__ == "__main__":
    main()
