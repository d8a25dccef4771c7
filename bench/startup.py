"""Start-up time (issue #14): ``zhiyuan run`` on the 100k-volunteer database beside a bare
python-telegram-bot echo bot, both as real processes against the local Bot API server.

    python -m bench.startup [--database /tmp/menu.sqlite3] [--volunteers 100000] [--repeat 3]

The database is the one ``bench.menu`` builds (100,000 volunteers who wrote to the bot before,
10,000 activities, 300,000 sign-ups; ``--database`` reuses a kept file, it is built otherwise).
Each run starts the process with a ``/start`` already waiting on the server and measures the
time from spawning the process to the answer: imports, opening and checking the database,
``getMe``, the command menus, the first poll and the first reply. The echo bot (one handler,
one reply, ``run_polling``) is timed the same way in the same run. Printed: the median of
``--repeat`` runs each, and the ratio (goal: Zhiyuan under 1.5 × echo). Nothing is asserted.

A third line times a process that only imports what the bot cannot start without and exits:
``telegram.ext`` (as the echo bot), aiohttp (the request layer, ``bot/http_client.py``) and
``bot.config`` (pydantic-settings). It is the floor under any start of this bot, whatever is
left out or loaded later. It leaves with ``os._exit`` (no interpreter shutdown to time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import menu
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo

TOKEN = "4242:BENCH-startup"

ECHO_BOT = """
import sys
from telegram.ext import ApplicationBuilder, MessageHandler, filters

async def echo(update, context):
    await update.effective_message.reply_text("echo: " + (update.effective_message.text or ""))

base = sys.argv[1]
builder = ApplicationBuilder().token(sys.argv[2]).base_url(base + "/bot")
application = builder.base_file_url(base + "/file/bot").build()
application.add_handler(MessageHandler(filters.ALL, echo))
application.run_polling(poll_interval=0.0, timeout=1)
"""


def _env(api: LocalBotApi, database: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "SYSTEMROOT", "VIRTUAL_ENV", "LANG")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env |= {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": api.url,
        "DATABASE_PATH": str(database),
        "LOG_LEVEL": "WARNING",
    }
    return env


async def _time_to_first_answer(
    api: LocalBotApi, user: VirtualUser, command: list[str], env: dict[str, str], text: str
) -> float:
    await user.send("/start")
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await user.wait_for_text(text, timeout=120)
        return time.perf_counter() - started
    finally:
        process.terminate()
        await process.wait()


#: What no start of the bot can do without (see the module's docstring).
FLOOR = "import gc, os; gc.disable(); import telegram.ext, aiohttp, bot.config; os._exit(0)"


async def _time_to_exit(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*command, env=env)
    if await process.wait() != 0:
        raise RuntimeError(f"{command} failed")
    return time.perf_counter() - started


def _compile() -> None:
    """Byte-compile the project as an installation does (``pip install`` writes ``.pyc``);
    without it every start would compile ~300 modules first (and the sandbox this was written
    in sets ``PYTHONDONTWRITEBYTECODE``, so imports never write them)."""
    root = Path(__file__).resolve().parent.parent
    folders = [str(root / name) for name in ("bot", "handlers", "storage")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


async def _prepare(database: Path, volunteers: int) -> None:
    args = menu.parse_args(["--volunteers", str(volunteers), "--database", str(database)])
    db = await menu._open(database)
    try:
        if not await menu._scalar(db, "SELECT COUNT(*) FROM activities"):
            print(f"building the benchmark database ({volunteers:,} volunteers) …")
            await menu.build(db, args)
        # The bot's own first start on a built database runs ANALYZE once (statistics missing);
        # a start afterwards is the one measured, as in production.
        if await db.statistics_stale():
            await db.analyze()
        # A kept file met another local server before, whose update ids started at 1 too (the
        # inbox would take them for repeats), and its outbox holds what that run planned.
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM inbox")
            await tx.execute("DELETE FROM outbox")
    finally:
        await db.close()


async def run(database: Path, volunteers: int, repeat: int) -> None:
    await _prepare(database, volunteers)
    _compile()
    zhiyuan: list[float] = []
    echo: list[float] = []
    floor: list[float] = []
    async with LocalBotApi() as api:
        bot = api.add_bot(TOKEN, username="zhiyuan_bench_bot")
        env = _env(api, database)
        for number in range(repeat):
            user = VirtualUser(api, bot, VirtualUserInfo(id=900_000 + number, first_name="Bench"))
            zhiyuan.append(
                await _time_to_first_answer(
                    api, user, [sys.executable, "-m", "bot", "run"], env, "Zhiyuan"
                )
            )
            other = VirtualUser(api, bot, VirtualUserInfo(id=950_000 + number, first_name="Echo"))
            echo.append(
                await _time_to_first_answer(
                    api,
                    other,
                    [sys.executable, "-c", ECHO_BOT, api.url, TOKEN],
                    env,
                    "echo: /start",
                )
            )
            floor.append(await _time_to_exit([sys.executable, "-c", FLOOR], env))
    ours, theirs = statistics.median(zhiyuan), statistics.median(echo)
    print(f"start to first answer, median of {repeat} (database {database}):")
    print(f"  zhiyuan run    {ours:6.2f} s   ({', '.join(f'{t:.2f}' for t in zhiyuan)})")
    print(f"  PTB echo bot   {theirs:6.2f} s   ({', '.join(f'{t:.2f}' for t in echo)})")
    print(f"  ratio          {ours / theirs:6.2f} × (goal < 1.5 ×)")
    least = statistics.median(floor)
    print(
        f"  imports alone  {least:6.2f} s   = {least / theirs:.2f} × echo "
        "(telegram.ext + aiohttp + bot.config, then exit)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--database", help="the bench.menu SQLite file to reuse or build")
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhiyuan-startup-") as scratch:
        database = Path(args.database) if args.database else Path(scratch) / "bench.sqlite3"
        asyncio.run(run(database, args.volunteers, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
