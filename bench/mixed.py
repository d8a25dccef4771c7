"""The mixed workload through the real bot (issue #14): ``zhiyuan run`` on the 100k-volunteer
database beside a bare python-telegram-bot echo bot, both real processes polling the local
Bot API server, in the same run.

    python -m bench.mixed [--database /tmp/menu.sqlite3] [--users 100] [--rounds 3]
                          [--rate 40] [--seconds 30] [--volunteers 100000]

Each virtual user is a registered volunteer of ``bench.menu``'s database (100,000 volunteers,
10,000 activities, 300,000 sign-ups; ``--database`` reuses a kept file, built otherwise) and
goes through what a person does: ``/menu`` → a kind of service (a random category button) →
the first activity on that page → ✋ Sign up (or ⬅️ Back when the card offers no sign-up) →
``/my``. Every step waits for the bot's answer to the one before, as a person does. The echo
bot gets the same number of messages from the same users and answers each.

Two measurements for each bot:

* **at once**: all ``--users`` go through ``--rounds`` rounds back to back with no pause;
  printed: updates/s (answered updates over the wall time) and p50/p95/p99 of the time from
  an update to its answer. The ratio of the throughputs is the goal (≥ 0.8 × echo).
* **offered rate**: the same users pause between steps so that together they offer about
  ``--rate`` updates a second (each pause drawn around ``users / rate`` seconds) for
  ``--seconds``; printed: the rate achieved and the answer times (goal: p99 < 100 ms at 40).

The benchmark process holds the local server and the users (one core); each bot is its own
process (the other core). Nothing is asserted; a step that gets no answer within 30 s is
counted as lost and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import menu, startup
from bot.localapi import BotInfo, LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.models import StoredMessage

TOKEN = startup.TOKEN
ECHO_TOKEN = "4343:BENCH-echo"
ANSWER_TIMEOUT = 30.0
STEPS_PER_ROUND = 5


@dataclass
class Figures:
    """What one measurement of one bot saw."""

    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    signed_up: int = 0
    seconds: float = 0.0
    # Only updates sent from this moment on count (the offered rate's ramp-up is left out).
    counted_from: float = 0.0

    def answered(self, began: float) -> None:
        if began >= self.counted_from:
            self.latencies.append(time.perf_counter() - began)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        if not self.latencies:
            return f"{label:<34} no answers ({self.lost} lost)"
        ordered = sorted(self.latencies)

        def pct(share: float) -> float:
            return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

        rate = len(ordered) / self.seconds
        extra = f"  signed up {self.signed_up}" if self.signed_up else ""
        return (
            f"{label:<34} {rate:9.1f} {statistics.median(ordered) * 1000:8.1f}"
            f" {pct(0.95):8.1f} {pct(0.99):8.1f} {ordered[-1] * 1000:8.1f} {self.lost:5d}{extra}"
        )


Step = Callable[[VirtualUser, random.Random, Figures], Awaitable[None]]


def _buttons(message: StoredMessage, prefix: str) -> list[str]:
    return [
        str(button["callback_data"])
        for button in message.buttons()
        if str(button.get("callback_data", "")).startswith(prefix)
    ]


class Volunteer:
    """One person going through the service menu; remembers the screen it is looking at."""

    def __init__(self, user: VirtualUser) -> None:
        self.user = user
        self.screen: StoredMessage | None = None

    async def _answer(self, figures: Figures, began: float) -> StoredMessage | None:
        try:
            reply = await self.user.next_reply(timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            figures.lost += 1
            return None
        figures.answered(began)
        self.screen = reply
        return reply

    async def type(self, text: str, figures: Figures) -> StoredMessage | None:
        began = time.perf_counter()
        await self.user.send(text)
        return await self._answer(figures, began)

    async def press(self, data: str, figures: Figures) -> StoredMessage | None:
        assert self.screen is not None
        began = time.perf_counter()
        await self.user.press_data(self.screen.message_id, data)
        return await self._answer(figures, began)

    async def round(
        self, rng: random.Random, figures: Figures, pause: Callable[[], Awaitable[None]]
    ) -> None:
        """/menu → category → a card of its first page → Sign up (Join the waiting list when
        it is full; Back when the card offers neither) → /my."""
        shown = await self.type("/menu", figures)
        await pause()
        categories = _buttons(shown, "br.view:c-") if shown else []
        shown = await self.press(rng.choice(categories), figures) if categories else None
        await pause()
        cards = _buttons(shown, "act.card:") if shown else []
        shown = await self.press(rng.choice(cards), figures) if cards else None
        await pause()
        if shown is not None:
            join = _buttons(shown, "su.join:") or _buttons(shown, "su.wait:")
            back = _buttons(shown, "br.view:")
            if join:
                shown = await self.press(join[0], figures)
                if shown is not None and (
                    "signed up" in (shown.plain_text or "")
                    or "on the waitlist" in (shown.plain_text or "")
                ):
                    figures.signed_up += 1
            elif back:
                await self.press(back[0], figures)
        await pause()
        await self.type("/my", figures)
        await pause()


class EchoUser:
    """The same person writing to the echo bot: as many messages as a round has steps."""

    def __init__(self, user: VirtualUser) -> None:
        self.user = user

    async def round(
        self, rng: random.Random, figures: Figures, pause: Callable[[], Awaitable[None]]
    ) -> None:
        for step in range(STEPS_PER_ROUND):
            began = time.perf_counter()
            await self.user.send(f"step {step}")
            try:
                await self.user.next_reply(timeout=ANSWER_TIMEOUT)
            except TimeoutError:
                figures.lost += 1
            else:
                figures.answered(began)
            await pause()


async def _no_pause() -> None:
    return None


async def _at_once(people: Sequence[Volunteer | EchoUser], rounds: int, seed: int) -> Figures:
    figures = Figures()

    async def one(number: int, person: Volunteer | EchoUser) -> None:
        rng = random.Random(seed * 1_000_003 + number)
        for _ in range(rounds):
            await person.round(rng, figures, _no_pause)

    began = time.perf_counter()
    await asyncio.gather(*(one(n, p) for n, p in enumerate(people)))
    figures.seconds = time.perf_counter() - began
    return figures


class _WindowOver(Exception):
    """The measured window has ended: a person stops where they are."""


async def _offered(
    people: Sequence[Volunteer | EchoUser], rate: float, seconds: float, seed: int
) -> Figures:
    """Each person pauses around ``len(people) / rate`` s after each answer, so together they
    offer about ``rate`` updates a second while answers are quick. Starts are spread over one
    pause, which is not counted; then updates sent within ``seconds`` are counted."""
    think = len(people) / rate
    began = time.perf_counter()
    figures = Figures(counted_from=began + think)
    deadline = began + think + seconds

    async def one(number: int, person: Volunteer | EchoUser) -> None:
        rng = random.Random(seed * 7_919 + number)

        async def pause() -> None:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            if time.perf_counter() >= deadline:
                raise _WindowOver

        await asyncio.sleep(rng.uniform(0, think))
        try:
            while True:
                await person.round(rng, figures, pause)
        except _WindowOver:
            return

    await asyncio.gather(*(one(n, p) for n, p in enumerate(people)))
    figures.seconds = seconds
    return figures


async def _for_you(people: list[Volunteer], presses: int) -> Figures:
    """One person at a time: ⭐ For you on the service menu, then back to the menu, until
    ``presses`` For you answers were counted over ``people`` (the back presses are not)."""
    figures, skipped = Figures(), Figures()
    began = time.perf_counter()
    for number in range(presses):
        person = people[number % len(people)]
        if person.screen is None:
            await person.type("/menu", skipped)
        shown = await person.press("br.view:fy", figures)
        back = _buttons(shown, "br.view:cats") if shown else []
        if back:
            await person.press(back[0], skipped)
    figures.seconds = time.perf_counter() - began
    figures.lost += skipped.lost
    return figures


async def _volunteer_ids(database: Path, count: int, seed: int) -> list[int]:
    """English-speaking adult volunteers who are not paused (the card then offers Sign up)."""
    db = await menu._open(database)
    try:
        rows = await db.fetch_all(
            "SELECT u.telegram_id FROM users u JOIN volunteers v ON v.telegram_id = u.telegram_id "
            "WHERE u.telegram_language_code = 'en' AND v.paused_until IS NULL "
            "ORDER BY u.telegram_id"
        )
    finally:
        await db.close()
    ids = [int(row["telegram_id"]) for row in rows]
    return random.Random(seed).sample(ids, count)


async def _started(
    command: list[str], env: dict[str, str], probe: VirtualUser, text: str
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    await probe.send("/start")
    await probe.wait_for_text(text, timeout=120)
    return process


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await process.wait()


async def run(args: argparse.Namespace, kept: Path, scratch: Path) -> None:
    await startup._prepare(kept, args.volunteers)
    # Each run signs people up: it works on a copy, so every run starts from the same state.
    database = scratch / "mixed.sqlite3"
    shutil.copyfile(kept, database)
    startup._compile()
    groups = args.trials + 1  # a group of people per trial, and one for the offered rate
    ids = await _volunteer_ids(database, args.users * groups + 2, args.seed)
    rows: list[tuple[str, Figures]] = []
    ours: list[Figures] = []
    theirs: list[Figures] = []
    async with LocalBotApi() as api:
        # Two bots on one server, both running all along: the trials alternate between them,
        # so a slower minute of a shared machine does not fall on one of them only.
        zhiyuan = api.add_bot(TOKEN, username="zhiyuan_bench_bot")
        echo = api.add_bot(ECHO_TOKEN, username="echo_bench_bot")
        env = startup._env(api, database)

        def people(bot: BotInfo, group: int) -> list[VirtualUser]:
            first = group * args.users
            return [
                VirtualUser(api, bot, VirtualUserInfo(id=i, first_name="Bench", language_code="en"))
                for i in ids[first : first + args.users]
            ]

        def probe(bot: BotInfo, number: int) -> VirtualUser:
            info = VirtualUserInfo(id=ids[-number], first_name="Probe", language_code="en")
            return VirtualUser(api, bot, info)

        ours_process = await _started(
            [sys.executable, "-m", "bot", "run"], env, probe(zhiyuan, 1), "Zhiyuan"
        )
        echo_command = [sys.executable, "-c", startup.ECHO_BOT, api.url, ECHO_TOKEN]
        echo_process = await _started(echo_command, env, probe(echo, 2), "echo: /start")
        try:
            # Warm both (the bot's caches, the page cache of the database).
            await _at_once([Volunteer(u) for u in people(zhiyuan, 0)[:10]], 1, args.seed + 99)
            await _at_once([EchoUser(u) for u in people(echo, 0)[:10]], 1, args.seed + 99)
            for trial in range(args.trials):
                volunteers = [Volunteer(u) for u in people(zhiyuan, trial)]
                ours.append(await _at_once(volunteers, args.rounds, args.seed + trial))
                rows.append((f"zhiyuan, at once #{trial + 1}", ours[-1]))
                writers = [EchoUser(u) for u in people(echo, trial)]
                theirs.append(await _at_once(writers, args.rounds, args.seed + trial))
                rows.append((f"echo bot, at once #{trial + 1}", theirs[-1]))
            alone = [Volunteer(u) for u in people(zhiyuan, args.trials)[:20]]
            rows.append(("zhiyuan, For you, one at a time", await _for_you(alone, args.for_you)))
            others = [Volunteer(u) for u in people(zhiyuan, args.trials)]
            offered = await _offered(others, args.rate, args.seconds, args.seed)
            rows.append((f"zhiyuan, offered {args.rate:g}/s", offered))
            writers = [EchoUser(u) for u in people(echo, args.trials)]
            offered = await _offered(writers, args.rate, args.seconds, args.seed)
            rows.append((f"echo bot, offered {args.rate:g}/s", offered))
        finally:
            await _stop(ours_process)
            await _stop(echo_process)
    print(
        f"mixed workload: {args.users} volunteers, /menu → category → card → Sign up → /my "
        f"(database {kept})"
    )
    print(
        f"{'':<34} {'updates/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'max ms':>8} {'lost':>5}"
    )
    for label, figures in rows:
        print(figures.line(label))
    our_rate = statistics.median(f.rate for f in ours)
    their_rate = statistics.median(f.rate for f in theirs)
    print(
        f"throughput at once, median of {args.trials}: zhiyuan {our_rate:.1f}, echo bot "
        f"{their_rate:.1f} updates/s; ratio {our_rate / their_rate:.2f} × echo (goal ≥ 0.8)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mixed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database", help="the bench.menu SQLite file to reuse or build")
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=3, help="at-once trials of each bot")
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--for-you", type=int, default=200, help="For you presses, one person")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="zhiyuan-mixed-") as scratch:
        kept = Path(args.database) if args.database else Path(scratch) / "bench.sqlite3"
        asyncio.run(run(args, kept, Path(scratch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
