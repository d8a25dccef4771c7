"""Every periodic job of the handler modules, in one table.

A job's function lives in its handler module; the table says when it runs. The module is
imported when the job first runs, not when the bot starts (#14: a start imports only what its
first updates use, see :mod:`handlers.lazy`). On PostgreSQL with several instances only the
holder of the scheduler lease runs jobs (``BotRuntime._start_scheduler_leadership``).

An interval or first run is a number of seconds or the name of a setting that holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import JobQueue

from bot.config import Settings
from bot.context import ZyContext
from handlers.lazy import handler_module

#: Seconds, or the name of the :class:`~bot.config.Settings` field that holds them.
Seconds = float | str
JobFunction = Callable[[ZyContext], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ModuleJob:
    name: str
    #: ``module:function`` under ``handlers``.
    target: str
    first: Seconds
    #: ``None``: runs once.
    every: Seconds | None = None
    #: Never two runs at once (a slow run is not overlapped by the next tick).
    one_at_a_time: bool = False


JOBS: tuple[ModuleJob, ...] = (
    # At start-up: finish queuing broadcasts that a stop interrupted.
    ModuleJob("broadcast-resume", "broadcast:resume_broadcasts", first=1),
    # Planning is idempotent: a few minutes late is fine.
    ModuleJob("campaigns", "campaigns:plan_campaigns", first=1, every=300),
    # The check-in displays' 30-second steps, looked at every 2 s.
    ModuleJob("checkin-rotate", "checkin_display:rotate_displays", first=2.0, every=2.0),
    ModuleJob(
        "emergency-headcount",
        "emergency_coordination:edit_held_back",
        first="emergency_edit_seconds",
        every="emergency_edit_seconds",
    ),
    # Looks for due waves (a wave is due every EMERGENCY_WAVE_INTERVAL).
    ModuleJob("emergency-waves", "emergency_coordination:send_waves", first=10.0, every=10.0),
    ModuleJob(
        "understaffed", "recruit:check_understaffed", first="outbox_interval_seconds", every=60.0
    ),
    # Reports are weekly and planning is idempotent: a few minutes late is fine.
    ModuleJob("reports", "reports:plan_reports", first="outbox_interval_seconds", every=300),
    # Timeouts, escalations and addresses to mask of residents' requests.
    ModuleJob("requests-tick", "request_dispatch:tick", first="outbox_interval_seconds", every=60),
    ModuleJob(
        "recognition-sweep",
        "stars:sweep",
        first="outbox_interval_seconds",
        every="recognition_sweep_seconds",
        one_at_a_time=True,
    ),
    # Reminders are daily and planning is idempotent: minutes late is fine.
    ModuleJob(
        "recording-deadlines",
        "workdays_admin:plan_recording",
        first="outbox_interval_seconds",
        every=300,
    ),
)


def _seconds(value: Seconds, settings: Settings) -> float:
    return float(getattr(settings, value)) if isinstance(value, str) else float(value)


def function_of(job: ModuleJob) -> JobFunction:
    """The job's function (imports its module)."""
    module, _, name = job.target.partition(":")
    return cast(JobFunction, getattr(handler_module(module), name))


def _deferred(job: ModuleJob) -> JobFunction:
    async def run(context: ZyContext) -> None:
        await function_of(job)(context)

    run.__name__ = run.__qualname__ = job.target.partition(":")[2]
    return run


def schedule_jobs(job_queue: JobQueue[Any], settings: Settings) -> None:
    for job in JOBS:
        first = _seconds(job.first, settings)
        if job.every is None:
            job_queue.run_once(_deferred(job), first, name=job.name)
            continue
        job_queue.run_repeating(
            _deferred(job),
            interval=_seconds(job.every, settings),
            first=first,
            name=job.name,
            job_kwargs={"max_instances": 1} if job.one_at_a_time else None,
        )
