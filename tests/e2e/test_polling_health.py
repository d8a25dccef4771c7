"""Polling through an outage (issue #15): a gateway answering 404 or 502 to getUpdates makes the
health check say so (503) while polling keeps trying; once the API is back the health check is
200 again and what users wrote meanwhile is answered."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from bot.config import Settings
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.balancer import free_port
from bot.runtime import BotRuntime
from tests.e2e.conftest import eventually

MakeUser = Callable[..., VirtualUser]


async def test_health_says_when_polling_fails_and_polling_never_gives_up(
    api: LocalBotApi, settings: Settings, make_user: MakeUser
) -> None:
    runtime = await BotRuntime.start(
        settings.model_copy(update={"health_port": free_port()}), poll_timeout=1
    )
    url = f"http://127.0.0.1:{runtime.health_port}/healthz"

    async def status() -> int:
        async with aiohttp.ClientSession() as session, session.get(url) as answer:
            return answer.status

    try:
        # Handled updates are pruned by a job (kept only while Telegram may repeat them).
        job_queue = runtime.application.job_queue
        assert job_queue is not None and job_queue.get_jobs_by_name("inbox-prune")
        await eventually(status, lambda code: code == 200, timeout=10)
        user = make_user("Olga", language_code="en")
        # A gateway in front of the API: 404 (PTB's Updater stopped for good on this), then 502.
        api.fail_next("getUpdates", 404, "Not Found", times=3)
        api.fail_next("getUpdates", 502, "Bad Gateway", times=3)
        await eventually(status, lambda code: code == 503, timeout=15)
        await user.send("/help")
        await user.wait_for_text("What I can do", timeout=30)
        await eventually(status, lambda code: code == 200, timeout=15)
    finally:
        await runtime.stop()
