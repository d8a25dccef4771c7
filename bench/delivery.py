"""Outbox delivery benchmark (issue #6): 10,000 reminder-like notifications sent by the real
:class:`bot.delivery.Deliverer` — inside the bot as ``zhiyuan run`` starts it (BotRuntime, the
repeating outbox job, PTB's ExtBot with :class:`bot.delivery.DeliveryRateLimiter`) — to the
project's local Bot API server with Telegram-like flood limits on and a simulated network
round trip.

    python -m bench.delivery [--rows 10000] [--users 2500] [--latency 0.1]

Target: at least 24 messages per second sustained (the default ``SEND_RATE_PER_SECOND`` is 25),
none lost, no duplicates, and no burst of 429s. The rows are ``REMINDER`` rows (time-critical,
so quiet hours do not apply) spread over ``--users`` recipients, several rows each and
interleaved, all due at once; their renderer is a stand-in that formats the row number without
database reads (the real reminder renderer is the reminders module's). The figures are printed,
never asserted; the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import platform
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.delivery import Rendered
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.users import TelegramIdentity
from bot.localapi import LocalBotApi, VirtualUserInfo
from bot.localapi.flood import FloodLimits
from bot.runtime import BotRuntime
from storage.timeutil import to_db_time
from storage.users import UsersRepository

TOKEN = "123456:BENCH-delivery"
TARGET_RATE = 24.0
FIRST_USER = 100_000


async def render_reminder(item: OutboxItem, services: object, t: object) -> Rendered:
    return Rendered(f"Reminder #{item.payload['n']}")


async def run(rows: int, users: int, latency: float) -> None:
    limits = FloodLimits()  # 30/s per bot, 1/s per private chat, 20/min per group
    print(
        f"Local Bot API with flood limits {limits.global_per_second:g}/s overall, "
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
            runtime = await BotRuntime.start(settings, poll_timeout=1)
            try:
                services = runtime.application.services
                services.deliverer.register(NotificationKind.REMINDER, render_reminder)
                repo = UsersRepository(runtime.db)
                now = datetime.now(UTC)
                for index in range(users):
                    uid = FIRST_USER + index
                    await repo.touch(TelegramIdentity(telegram_id=uid, first_name=f"U{uid}"), now)
                    server.open_private_chat(bot_info, VirtualUserInfo(id=uid, first_name="U"))
                stamp = to_db_time(now)
                async with runtime.db.transaction() as tx:
                    await tx.execute_many(
                        "INSERT INTO outbox (dedup_key, kind, telegram_id, payload, due_at, "
                        "created_at) VALUES (?, 'reminder', ?, ?, ?, ?)",
                        (
                            (
                                f"bench:{n}",
                                FIRST_USER + n % users,
                                json.dumps({"n": n}),
                                stamp,
                                stamp,
                            )
                            for n in range(rows)
                        ),
                    )
                print(f"{rows:,} due rows for {users:,} recipients queued; the outbox job sends")
                server.stats.reset()
                started = time.monotonic()
                samples: list[tuple[float, int, int]] = []
                last_print = started
                while True:
                    await asyncio.sleep(0.25)
                    at = time.monotonic() - started
                    samples.append((at, server.stats.messages_sent, server.stats.too_many_requests))
                    if at - (last_print - started) >= 30:
                        last_print = time.monotonic()
                        print(f"  {at:6.0f} s: {server.stats.messages_sent:,} sent")
                    if server.stats.messages_sent >= rows:
                        break
                    pending = await runtime.db.fetch_one(
                        "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'"
                    )
                    assert pending is not None
                    if pending["n"] == 0 and at > 5:
                        break  # everything finished, whether sent or not
                    if at > rows / 5 + 60:
                        print("  giving up waiting (below 5 msg/s)")
                        break
                await asyncio.sleep(1.0)  # late duplicates would show up here
                statuses = await services.outbox.counts()
            finally:
                await runtime.stop()
            report(server, bot_info.id, rows, users, samples, statuses)


def report(
    server: LocalBotApi,
    bot_id: int,
    rows: int,
    users: int,
    samples: list[tuple[float, int, int]],
    statuses: dict[str, int],
) -> None:
    delivered: collections.Counter[str] = collections.Counter()
    for uid in range(FIRST_USER, FIRST_USER + users):
        chat = server.find_chat(bot_id, uid)
        for message in chat.bot_messages() if chat else []:
            delivered[message.visible_text] += 1
    expected = {f"Reminder #{n}" for n in range(rows)}
    lost = len(expected - set(delivered))
    duplicates = sum(count - 1 for text, count in delivered.items() if count > 1)
    first = next((t for t, sent, _ in samples if sent > 0), 0.0)
    last = next((t for t, sent, _ in samples if sent >= max(s for _, s, _ in samples)), 0.0)
    sent = max((s for _, s, _ in samples), default=0)
    rate = (sent / (last - first)) if last > first else 0.0
    # Slowest 10-second window between the first and the last message (0.25 s samples).
    window = 40
    rates = [
        (samples[i + window][1] - samples[i][1]) / (samples[i + window][0] - samples[i][0])
        for i in range(len(samples) - window)
        if samples[i][0] >= first and samples[i + window][0] <= last
    ]
    too_many = samples[-1][2] if samples else 0
    worst_second = max(
        (
            samples[i + 4][2] - samples[i][2]
            for i in range(len(samples) - 4)  # 429s within any ~1 s
        ),
        default=0,
    )
    print()
    print(f"sent by the server:      {sent:,} messages in {last - first:.1f} s")
    print(f"sustained rate:          {rate:.2f} msg/s (target >= {TARGET_RATE:g})")
    if rates:
        print(f"slowest 10 s window:     {min(rates):.2f} msg/s, fastest {max(rates):.2f} msg/s")
    print(f"lost:                    {lost:,}")
    print(f"duplicates:              {duplicates:,}")
    print(f"429 answers:             {too_many:,} (at most {worst_second} within one second)")
    print(f"outbox rows by status:   {dict(sorted(statuses.items()))}")
    ok = rate >= TARGET_RATE and lost == 0 and duplicates == 0 and worst_second <= 1
    print(f"result:                  {'PASS' if ok else 'FAIL'}")
    print(
        f"(Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{rows:,} rows, {users:,} recipients)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=2_500)
    parser.add_argument("--latency", type=float, default=0.1, help="round trip in seconds")
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.users, args.latency))


if __name__ == "__main__":
    main()
