"""Delivering the outbox end to end: the bot as ``zhiyuan run`` starts it, a ManualClock for the
outbox's idea of time, and the local Bot API server as Telegram.

Test renderers are registered for REMINDER (time-critical) and CAMPAIGN (waits out quiet
hours): the text is the row's ``text`` payload, and ``stale=1`` makes the row stale.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot import delivery
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import Services, deliver_outbox
from bot.delivery import BATCH_SIZE, LEASE, Deliverer, Rendered
from bot.domain.notifications import Notification, NotificationKind, OutboxItem
from bot.i18n import Translator
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.models import BotInfo
from storage.outbox import OutboxRepository
from tests.e2e.conftest import BotProcess, eventually
from tests.factories import add_user, add_volunteer

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no quiet hours
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: default quiet hours


#: Texts whose ``after_sent`` hook ran: only messages Telegram accepted.
ACCEPTED: list[str] = []


async def render_text(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    if item.payload.get("stale"):
        return None
    text = str(item.payload["text"])

    async def accepted() -> None:
        ACCEPTED.append(text)

    return Rendered(text, after_sent=accepted)


def prepare(process: BotProcess) -> Services:
    application = process.runtime.application  # type: ignore[union-attr]
    application.deliverer.register(NotificationKind.REMINDER, render_text)
    application.deliverer.register(NotificationKind.CAMPAIGN, render_text)
    return application.services


async def start(process: BotProcess) -> Services:
    await process.start()
    return prepare(process)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def process(
    settings: Settings, bot_info: BotInfo, clock: ManualClock
) -> AsyncIterator[BotProcess]:
    running = BotProcess(settings, clock)
    try:
        yield running
    finally:
        await running.stop()


async def recipient(
    services: Services,
    api: LocalBotApi,
    make_user: Callable[..., VirtualUser],
    *,
    volunteer: bool = False,
) -> VirtualUser:
    """A user the bot knows (in the database) whose private chat exists on the server."""
    user = make_user()
    if volunteer:
        await add_volunteer(services.db, user.id, now=services.clock())
    else:
        await add_user(services.db, user.id, now=services.clock())
    api.open_private_chat(user.bot, user.info)
    return user


async def enqueue(
    services: Services,
    telegram_id: int,
    text: str,
    *,
    kind: NotificationKind = NotificationKind.REMINDER,
    **payload: int | str,
) -> None:
    now = services.clock()
    async with services.db.transaction() as tx:
        await OutboxRepository.enqueue(
            tx,
            Notification(
                kind=kind,
                telegram_id=telegram_id,
                subject=text,
                payload={"text": text, **payload},
                due_at=now,
            ),
            now,
        )


async def _accepted() -> list[str]:
    return list(ACCEPTED)


def texts(user: VirtualUser) -> list[str]:
    return [message.visible_text for message in user.bot_messages()]


async def statuses(services: Services, telegram_id: int) -> list[str]:
    return [row["status"] for row in await services.outbox.for_recipient(telegram_id)]


def all_sent(values: list[str]) -> bool:
    return bool(values) and all(value == "sent" for value in values)


async def wait_all_sent(services: Services, users: list[VirtualUser]) -> None:
    for user in users:
        await eventually(lambda user=user: statuses(services, user.id), all_sent)  # type: ignore[misc]


async def test_a_crash_mid_batch_loses_nothing_and_repeats_at_most_one_batch(
    settings: Settings,
    process: BotProcess,
    clock: ManualClock,
    api: LocalBotApi,
    make_user: Callable[..., VirtualUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No automatic outbox runs before the crash: the test drives the one that crashes.
    process.settings = settings.model_copy(update={"outbox_interval_seconds": 300})
    services = await start(process)
    users = [await recipient(services, api, make_user) for _ in range(30)]
    for user in users:
        await enqueue(services, user.id, f"hello {user.id}")

    # Recording an outcome dies after a few sends: messages went out, nothing more was recorded,
    # and the rest of the batch (claimed, leased) is abandoned as when the process is killed.
    real_finish = services.outbox.finish
    finished = 0

    async def finish_then_die(*args: object, **kwargs: object) -> None:
        nonlocal finished
        finished += 1
        if finished > 5:
            raise RuntimeError("killed")
        await real_finish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services.outbox, "finish", finish_then_die)
    with pytest.raises(ExceptionGroup):
        application = process.runtime.application  # type: ignore[union-attr]
        await application.deliverer.run_once(application.bot)
    await process.stop()
    # Counted once the process is down: sends cancelled mid-flight by the crash may still have
    # reached the server (as with a real kill), and those count as sent before the restart.
    sent_before = sum(len(texts(user)) for user in users)
    assert 5 < sent_before < len(users)  # some went out, not all

    # Restarted after the lease ran out, with the outbox job running again.
    clock.advance(LEASE + timedelta(seconds=1))
    process.settings = settings
    services = await start(process)
    await wait_all_sent(services, users)
    delivered = Counter(text for user in users for text in texts(user))
    assert set(delivered) == {f"hello {user.id}" for user in users}  # nothing lost
    duplicates = sum(count - 1 for count in delivered.values())
    assert duplicates <= BATCH_SIZE
    assert duplicates <= sent_before - 5  # only those sent but not recorded came twice


async def test_rows_claimed_before_a_stop_are_delivered_after_the_lease(
    settings: Settings,
    process: BotProcess,
    clock: ManualClock,
    api: LocalBotApi,
    make_user: Callable[..., VirtualUser],
) -> None:
    process.settings = settings.model_copy(update={"outbox_interval_seconds": 300})
    services = await start(process)
    users = [await recipient(services, api, make_user) for _ in range(3)]
    for user in users:
        await enqueue(services, user.id, f"claimed {user.id}")
    claimed = await services.outbox.claim_due(clock(), LEASE, BATCH_SIZE)  # then "killed"
    assert len(claimed) == 3
    await process.stop()

    process.settings = settings
    services = await start(process)
    await eventually(lambda: services.outbox.counts(), lambda counts: counts.get("sent") is None)
    assert all(texts(user) == [] for user in users)  # the lease still holds
    clock.advance(LEASE)
    await wait_all_sent(services, users)
    for user in users:
        assert texts(user) == [f"claimed {user.id}"]


async def test_403_stops_delivery_until_the_user_writes_again(
    process: BotProcess,
    api: LocalBotApi,
    bot_info: BotInfo,
    make_user: Callable[..., VirtualUser],
) -> None:
    services = await start(process)
    alice = await recipient(services, api, make_user)
    bob = await recipient(services, api, make_user)
    # Alice blocked the bot while it was not looking (no my_chat_member seen): sends get 403.
    api.chat(bot_info, alice.id).blocked = True
    await enqueue(services, alice.id, "first for Alice")
    await enqueue(services, alice.id, "second for Alice")
    await enqueue(services, bob.id, "for Bob")

    ACCEPTED.clear()
    await bob.wait_for_text("for Bob")
    assert await eventually(
        lambda: statuses(services, alice.id), lambda s: s == ["dropped", "dropped"]
    )
    # The after-send hook ran for Bob's message only, never for a refused one.
    await eventually(lambda: _accepted(), lambda found: "for Bob" in found)
    assert not [text for text in ACCEPTED if "Alice" in text]
    user = await services.accounts.get(alice.id)
    assert user is not None and not user.is_reachable
    await enqueue(services, alice.id, "third for Alice")
    await eventually(lambda: statuses(services, alice.id), lambda s: s[-1] == "dropped")
    assert api.stats.errors[403] == 1  # dropped without trying again

    # Writing again makes her reachable (AccountService.seen → UsersRepository.touch).
    api.chat(bot_info, alice.id).blocked = False
    await alice.send("hello")
    await eventually(
        lambda: services.accounts.get(alice.id), lambda u: u is not None and u.is_reachable
    )
    await enqueue(services, alice.id, "welcome back")
    await alice.wait_for_text("welcome back")
    assert "first for Alice" not in texts(alice)


async def test_blocking_and_unblocking_through_my_chat_member(
    process: BotProcess,
    clock: ManualClock,
    make_user: Callable[..., VirtualUser],
) -> None:
    services = await start(process)
    alice = make_user()
    await alice.send("/start")
    await alice.next_reply()
    later = clock() + timedelta(days=1)
    async with services.db.transaction() as tx:
        await OutboxRepository.enqueue(
            tx,
            Notification(
                kind=NotificationKind.CAMPAIGN,
                telegram_id=alice.id,
                subject="tomorrow",
                payload={"text": "tomorrow"},
                due_at=later,
            ),
            clock(),
        )

    await alice.block()
    await eventually(lambda: statuses(services, alice.id), lambda s: s == ["dropped"])
    user = await services.accounts.get(alice.id)
    assert user is not None and not user.is_reachable

    await alice.unblock()
    await eventually(
        lambda: services.accounts.get(alice.id), lambda u: u is not None and u.is_reachable
    )
    assert await statuses(services, alice.id) == ["dropped"]  # what was dropped stays dropped


async def test_429_delays_only_that_message(
    process: BotProcess,
    clock: ManualClock,
    api: LocalBotApi,
    make_user: Callable[..., VirtualUser],
) -> None:
    services = await start(process)
    users = [await recipient(services, api, make_user) for _ in range(3)]
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    for user in users:
        await enqueue(services, user.id, f"note {user.id}")

    async def rows() -> list[tuple[str, str, int]]:
        found = []
        for user in users:
            (row,) = await services.outbox.for_recipient(user.id)
            found.append((row["status"], row["due_at"], row["attempts"]))
        return found

    found = await eventually(
        rows, lambda r: sorted(s for s, _, _ in r) == ["pending", "sent", "sent"]
    )
    # The refused one is due again 7 s later (the clock stands still), the others went out.
    waiting = [
        user for user, (status, _, _) in zip(users, found, strict=True) if status == "pending"
    ]
    assert len(waiting) == 1
    (row,) = await services.outbox.for_recipient(waiting[0].id)
    assert row["due_at"].startswith("2026-11-23T02:00:07")
    assert texts(waiting[0]) == []
    assert api.stats.too_many_requests == 1
    assert api.stats.requests["sendMessage"] == 3  # the rate limiter did not retry it

    clock.advance(timedelta(seconds=7))
    await waiting[0].wait_for_text(f"note {waiting[0].id}")
    assert api.stats.requests["sendMessage"] == 4


async def test_stale_notifications_are_dropped(
    process: BotProcess, api: LocalBotApi, make_user: Callable[..., VirtualUser]
) -> None:
    services = await start(process)
    alice = await recipient(services, api, make_user)
    await enqueue(services, alice.id, "gone", stale=1)
    await enqueue(services, alice.id, "still valid")
    await alice.wait_for_text("still valid")
    rows = await eventually(
        lambda: services.outbox.for_recipient(alice.id), lambda r: r[-1]["status"] == "sent"
    )
    assert [(row["status"], row["last_error"]) for row in rows] == [
        ("dropped", "stale"),
        ("sent", None),
    ]
    assert texts(alice) == ["still valid"]


async def test_quiet_hours_defer_a_campaign_but_not_a_reminder(
    process: BotProcess,
    clock: ManualClock,
    api: LocalBotApi,
    make_user: Callable[..., VirtualUser],
) -> None:
    clock.set(NIGHT)  # 23:00 in Shanghai; volunteers' default quiet hours are 22:00–08:00
    services = await start(process)
    volunteer = await recipient(services, api, make_user, volunteer=True)
    no_profile = await recipient(services, api, make_user)  # no volunteer profile: no quiet hours
    await enqueue(services, volunteer.id, "campaign at night", kind=NotificationKind.CAMPAIGN)
    await enqueue(services, volunteer.id, "reminder at night")
    await enqueue(services, no_profile.id, "campaign for a user", kind=NotificationKind.CAMPAIGN)

    await volunteer.wait_for_text("reminder at night")
    await no_profile.wait_for_text("campaign for a user")
    (campaign, reminder) = await eventually(
        lambda: services.outbox.for_recipient(volunteer.id), lambda r: r[1]["status"] == "sent"
    )
    assert reminder["status"] == "sent"
    assert campaign["status"] == "pending"
    assert campaign["due_at"].startswith("2026-11-24T00:00:00")  # 08:00 in Shanghai
    assert campaign["attempts"] == 0  # deferring is not a failed attempt
    assert texts(volunteer) == ["reminder at night"]

    clock.set(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    await volunteer.wait_for_text("campaign at night")


async def test_a_run_cut_short_by_its_time_limit_hands_over_at_once(
    settings: Settings,
    api: LocalBotApi,
    bot_info: BotInfo,
    clock: ManualClock,
    make_user: Callable[..., VirtualUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every run stops after one batch of two; the ticks are 60 s apart, so only the hand-over
    # (not the next tick) can deliver the rest within the test's waits.
    monkeypatch.setattr(delivery, "MAX_RUN", timedelta(0))
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    running = BotProcess(settings.model_copy(update={"outbox_interval_seconds": 60}), clock)
    try:
        services = await start(running)
        users = [await recipient(services, api, make_user) for _ in range(5)]
        for user in users:
            await enqueue(services, user.id, f"for {user.id}")
        application = running.runtime.application  # type: ignore[union-attr]
        assert application.job_queue is not None
        application.job_queue.run_once(deliver_outbox, 0)
        for user in users:
            await user.wait_for_text(f"for {user.id}")
    finally:
        await running.stop()


async def test_a_held_deliverer_gives_its_broadcast_back_and_sends_nothing_until_resumed(
    settings: Settings,
    process: BotProcess,
    clock: ManualClock,
    api: LocalBotApi,
    make_user: Callable[..., VirtualUser],
) -> None:
    """#14, several instances: the instance that loses the scheduler lease holds its deliverer
    (bot.runtime), so only one process paces bulk sends against Telegram's per-bot budget. A
    hold in the middle of a broadcast ends the run at its next send; what was not sent stays
    queued (nothing failed) and is sent once, after ``resume``."""
    process.settings = settings.model_copy(update={"outbox_interval_seconds": 300})
    services = await start(process)
    users = [await recipient(services, api, make_user) for _ in range(90)]
    for user in users:
        await enqueue(services, user.id, f"alert {user.id}")
    application = process.runtime.application  # type: ignore[union-attr]
    deliverer = application.deliverer
    assert application.job_queue is not None
    application.job_queue.run_once(deliver_outbox, 0)

    async def on_server() -> int:
        return sum(len(texts(user)) for user in users)

    await eventually(on_server, lambda n: n >= 5, timeout=30)
    deliverer.hold()
    await eventually(lambda: _running(deliverer), lambda running: not running, timeout=30)
    sent_while_leading = await on_server()
    counts = await services.outbox.counts()
    assert counts.get("sent", 0) == sent_while_leading < len(users)
    assert counts.get("pending", 0) == len(users) - sent_while_leading
    assert "failed" not in counts
    # Held: a nudge sends nothing (the rows' leases were given back, so another instance can
    # take them at once).
    report = await deliverer.run_once(application.bot)
    assert report.sent == 0 and await on_server() == sent_while_leading

    deliverer.resume()
    application.job_queue.run_once(deliver_outbox, 0)
    await wait_all_sent(services, users)
    for user in users:
        assert texts(user) == [f"alert {user.id}"]


async def _running(deliverer: Deliverer[Services]) -> bool:
    return deliverer.running
