"""Interactive throughput with several instances (issue #21): 1, 2 and 3 webhook instances on
PostgreSQL beside one on SQLite, through the local Bot API server and a round-robin balancer.

    python -m bench.instances --postgres postgresql://postgres@/postgres?host=/tmp/pg
                              [--users 100] [--messages 5] [--processes]

Each virtual user sends ``/help`` ``--messages`` times, each after the previous answer came
(as a person would); all users at once. Printed per configuration: updates/s, p50 and p99 of
the time from a message to its answer, side by side; nothing is asserted. Every configuration
gets a fresh database (PostgreSQL: a new database on the given server, dropped afterwards).
By default the instances are runtimes in this process (one event loop shares one core with the
local server and the users); ``--processes`` runs each as a real ``zhiyuan run --webhook``
process, as in production, so instances use the other cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg
from pydantic import SecretStr

from bot.config import Settings
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.balancer import PATH, Balancer, free_port
from bot.localcluster import Instance
from bot.runtime import BotRuntime
from storage.backends import open_database
from storage.migrate import migrate

TOKEN = "123456:BENCH-instances"
SECRET = "bench-instances_secret"


async def _measure(
    api: LocalBotApi, users: list[VirtualUser], messages: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one(user: VirtualUser) -> None:
        for _ in range(messages):
            began = time.perf_counter()
            await user.send("/help")
            await user.wait_for_text("What I can do", timeout=120)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(user) for user in users))
    return time.perf_counter() - began, latencies


async def _start_processes(
    api: LocalBotApi, balancer: Balancer, database: Path | str, instances: int, folder: Path
) -> list[Instance]:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env |= {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": api.url,
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}{PATH}",
        "WEBHOOK_SECRET": SECRET,
        ("DATABASE_URL" if isinstance(database, str) else "DATABASE_PATH"): str(database),
    }
    started = [Instance(f"bench-{n}", env, folder, print) for n in range(instances)]
    for instance in started:
        await instance.start()
    async with aiohttp.ClientSession() as session:
        for instance in started:
            await instance.wait_ready(session)
            balancer.ports.append(instance.port)
    return started


async def _run(
    label: str,
    database: Path | str,
    instances: int,
    user_count: int,
    messages: int,
    *,
    processes: bool = False,
) -> str:
    async with LocalBotApi(webhook_retry_base=0.05, webhook_retry_max=0.5) as api:
        bot = api.add_bot(TOKEN, username="zhiyuan_bench_bot")
        balancer = Balancer()
        await balancer.start()
        runtimes: list[BotRuntime] = []
        started: list[Instance] = []
        folder = tempfile.TemporaryDirectory()
        try:
            if processes:
                if isinstance(database, Path):
                    await _migrated(database)  # one process migrates before the others start
                started = await _start_processes(
                    api, balancer, database, instances, Path(folder.name)
                )
            for number in range(0 if processes else instances):
                port = free_port()
                base = Settings(
                    bot_token=TOKEN,
                    bot_api_url=api.url,
                    log_level="WARNING",
                    webhook_url=f"http://127.0.0.1:{balancer.port}{PATH}",
                    webhook_secret=SecretStr(SECRET),
                    webhook_port=port,
                    instance_name=f"bench-{number}",
                )
                if isinstance(database, str):
                    base = base.model_copy(update={"database_url": SecretStr(database)})
                else:
                    base = base.model_copy(update={"database_path": database})
                runtimes.append(await BotRuntime.start(base, webhook=True))
                balancer.ports.append(port)
            users = [
                VirtualUser(
                    api,
                    bot,
                    VirtualUserInfo(id=50_000 + n, first_name=f"U{n}", language_code="en"),
                )
                for n in range(user_count)
            ]
            seconds, latencies = await _measure(api, users, messages)
        finally:
            for runtime in runtimes:
                await runtime.stop()
            for instance in started:
                await instance.stop()
            await balancer.stop()
            folder.cleanup()
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    return (
        f"{label:<28} {len(latencies) / seconds:10.1f} {statistics.median(latencies) * 1000:9.0f}"
        f" {p99 * 1000:9.0f}"
    )


async def _migrated(database: Path) -> None:
    db = await open_database(database)
    try:
        await migrate(db)
    finally:
        await db.close()


def _database(admin: str, name: str) -> str:
    return urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))


async def main_async(
    postgres: str | None, user_count: int, messages: int, *, processes: bool = False
) -> None:
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        lines.append(
            await _run(
                "SQLite, 1 instance",
                Path(folder) / "b.sqlite3",
                1,
                user_count,
                messages,
                processes=processes,
            )
        )
    if postgres:
        for instances in (1, 2, 3):
            name = f"zy_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"'.encode())
            try:
                label = f"PostgreSQL, {instances} instance{'s' if instances > 1 else ''}"
                lines.append(
                    await _run(
                        label,
                        _database(postgres, name),
                        instances,
                        user_count,
                        messages,
                        processes=processes,
                    )
                )
            finally:
                with psycopg.connect(postgres, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    kind = "separate processes" if processes else "runtimes in one process"
    print(
        f"interactive throughput: {user_count} users × {messages} messages, webhook mode, "
        f"instances as {kind}"
    )
    print(f"{'configuration':<28} {'updates/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for line in lines:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="an admin URL of a PostgreSQL server")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument(
        "--processes", action="store_true", help="run each instance as a zhiyuan run process"
    )
    args = parser.parse_args()
    asyncio.run(main_async(args.postgres, args.users, args.messages, processes=args.processes))


if __name__ == "__main__":
    main()
