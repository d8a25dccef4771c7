"""``zhiyuan demo-cluster``: three bot instances on one PostgreSQL, in webhook mode, on one machine.

What production looks like with several instances (README, "Operations"), started by one
command so a person can chat with it and watch the instances share the work:

* **PostgreSQL**: ``--database-url`` when given (never ``DATABASE_URL``: a shell set up for a
  real deployment must not let the demo's instances deliver, and so use up, its
  notifications); otherwise a throwaway cluster of Debian's ``postgresql`` package
  (``/usr/lib/postgresql/<version>/bin``) in a temporary folder, reachable only by its Unix
  socket there, removed on stop. Run as root, the server runs as the ``postgres`` user
  (``runuser``), which PostgreSQL requires. The demo data is loaded once.
* **The local Bot API server** (:class:`~bot.localapi.LocalBotApi`) delivering updates by
  webhook, as Telegram does, to
* **a round-robin balancer** (:class:`~bot.localapi.balancer.Balancer`), as a load balancer
  would, in front of
* **three ``zhiyuan run --webhook`` processes** (``zy-1`` … ``zy-3``): any of them stores an
  update and any of them handles it (the inbox). Each reaches the Bot API server through its
  own small relay, so the console says which instance answered what:
  ``zy-2  sendMessage → 王芳``.
* **the playground page** (:class:`~bot.playground.server.PlaygroundWeb`) over that server, to
  chat as one of the demo personas.

Ctrl+C stops everything in reverse order and removes the throwaway cluster.

.. mermaid::

    flowchart LR
        page[playground page] --> api[local Bot API server]
        api -- webhook --> lb[balancer]
        lb --> zy1[zy-1] & zy2[zy-2] & zy3[zy-3]
        zy1 & zy2 & zy3 --> pg[(PostgreSQL)]
        zy1 & zy2 & zy3 -- relay: who answered --> api
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pwd
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.config import EXIT_CONFIG_ERROR, Settings
from bot.demo import ADMIN_IDS, PERSONAS, load_demo_data
from bot.localapi import LocalBotApi
from bot.localapi.balancer import PATH, Balancer, free_port
from bot.playground.server import (
    BOT_NAME,
    BOT_USERNAME,
    PLAYGROUND_TOKEN,
    PlaygroundWeb,
    check_bind_address,
)
from storage.backends import open_database
from storage.migrate import migrate

logger = logging.getLogger("bot.localcluster")

INSTANCES = 3
DEBIAN_POSTGRES = Path("/usr/lib/postgresql")
#: A secret only the demo's own webhook requests carry.
WEBHOOK_SECRET = "demo-cluster-webhook-secret"
#: How long an instance may take to start (imports, migrations checked, webhook set).
START_TIMEOUT = 60.0
#: The Bot API methods the console reports, per instance.
_ANSWERS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "sendPhoto",
        "sendDocument",
        "deleteMessage",
    }
)


class ClusterError(Exception):
    """The demo cannot start (no PostgreSQL, a command failed); the message says why."""


# ---------------------------------------------------------------------------- PostgreSQL


def find_postgres_bin() -> Path | None:
    """The ``bin`` folder of the newest Debian PostgreSQL installed, or ``None``."""
    found: list[tuple[int, Path]] = []
    if DEBIAN_POSTGRES.is_dir():
        for folder in DEBIAN_POSTGRES.iterdir():
            if folder.name.isdigit() and (folder / "bin" / "initdb").exists():
                found.append((int(folder.name), folder / "bin"))
    return max(found)[1] if found else None


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, listening only on a Unix socket there."""

    folder: Path
    bin: Path
    as_postgres: bool

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.folder}"

    @classmethod
    async def start(cls, bin_folder: Path) -> ThrowawayPostgres:
        folder = Path(tempfile.mkdtemp(prefix="zhiyuan-pg-"))
        # PostgreSQL refuses to run as root: then its files and server belong to "postgres".
        as_postgres = os.geteuid() == 0
        if as_postgres:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(folder, ignore_errors=True)
                raise ClusterError("running as root needs the postgres user") from None
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        cluster = cls(folder, bin_folder, as_postgres)
        try:
            await cluster._run("initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", "data")
            options = f"-k {folder} -c listen_addresses='' -c fsync=off -c max_connections=100"
            await cluster._run("pg_ctl", "-D", "data", "-o", options, "-l", "log", "-w", "start")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return cluster

    async def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=self.folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise ClusterError(f"{program} failed: {output.decode(errors='replace').strip()}")

    async def stop(self) -> None:
        """Stop the server at once (its data is thrown away) and remove the folder."""
        try:
            await self._run("pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


# ------------------------------------------------------------------------------ instances


def _names() -> dict[int, str]:
    return {persona.telegram_id: persona.first_name for persona in PERSONAS}


class Relay:
    """One instance's way to the Bot API server: forwards every request unchanged and reports
    the answers it carries (``zy-2  sendMessage → 王芳``)."""

    def __init__(self, name: str, target: str, report: Callable[[str], None]) -> None:
        self.name = name
        self.target = target.rstrip("/")
        self.report = report
        self.port = free_port()
        self.names = _names()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        # No total timeout: getUpdates is not used in webhook mode, but a file may be large.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {"Content-Type": request.headers.get("Content-Type", "")}
        async with self._session.request(
            request.method, f"{self.target}{request.rel_url}", data=body, headers=headers
        ) as answer:
            content = await answer.read()
            kind = answer.headers.get("Content-Type", "application/octet-stream")
            status = answer.status
        method = request.path.rsplit("/", 1)[-1]
        if method in _ANSWERS and status == 200:
            self.report(f"{self.name}  {method}{self._recipient(body, headers['Content-Type'])}")
        return web.Response(status=status, body=content, headers={"Content-Type": kind})

    def _recipient(self, body: bytes, content_type: str) -> str:
        chat: object = None
        if content_type.startswith("application/json"):
            with contextlib.suppress(ValueError):
                chat = json.loads(body or b"{}").get("chat_id")
        elif content_type.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode(errors="replace")).get("chat_id")
            chat = values[0] if values else None
        elif content_type.startswith("multipart/form-data"):
            found = re.search(rb'name="chat_id"\r\n\r\n(-?\d+)', body)
            chat = found.group(1).decode() if found else None
        if chat is None:
            return ""
        with contextlib.suppress(ValueError):
            return f" → {self.names.get(int(str(chat)), chat)}"
        return ""


@dataclass
class Instance:
    """One ``zhiyuan run --webhook`` process."""

    name: str
    env: dict[str, str]
    folder: Path
    report: Callable[[str], None]
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    _echo: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            env=self.env | {"INSTANCE_NAME": self.name, "WEBHOOK_PORT": str(self.port)},
            # An empty folder: no .env file of the person's own deployment is read.
            cwd=self.folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._echo = asyncio.create_task(self._echo_output())

    async def _echo_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for line in self.process.stdout:
            self.report(f"{self.name}| {line.decode(errors='replace').rstrip()}")

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        """Until its ``/healthz`` answers 200 (webhook server up, database reachable)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.returncode is not None:
                raise ClusterError(f"{self.name} exited with status {self.process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                    if answer.status == 200:
                        return
            if loop.time() > deadline:
                raise ClusterError(f"{self.name} did not start within {START_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)  # a process starting: nothing to wait on but its port

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._echo is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._echo, 5)


# -------------------------------------------------------------------------------- the demo


@dataclass
class DemoCluster:
    """A running demo; :meth:`stop` ends everything it started, in reverse order."""

    url: str
    api: LocalBotApi
    database_url: str
    throwaway: bool
    instances: list[Instance]
    _resources: AsyncExitStack

    async def stop(self) -> None:
        await self._resources.aclose()


async def _prepare(database_url: str) -> bool:
    db = await open_database(database_url)
    try:
        await migrate(db)
        from bot.clock import system_clock

        return await load_demo_data(db, system_clock())
    finally:
        await db.close()


async def start_demo_cluster(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    database_url: str | None = None,
    instances: int = INSTANCES,
    report: Callable[[str], None] = print,
) -> DemoCluster:
    """Start the demo (see the module's docstring). ``database_url`` None: a throwaway cluster
    of Debian's PostgreSQL, or :class:`ClusterError` when it is not installed."""
    bind_host = check_bind_address(host, allow_public=False)
    stack = AsyncExitStack()
    try:
        throwaway = database_url is None
        if database_url is None:
            bin_folder = find_postgres_bin()
            if bin_folder is None:
                raise ClusterError(
                    "no PostgreSQL: give --database-url, or install Debian's postgresql package"
                )
            cluster = await ThrowawayPostgres.start(bin_folder)
            stack.push_async_callback(cluster.stop)
            database_url = cluster.url
            report(f"PostgreSQL: a throwaway cluster in {cluster.folder} (removed on stop)")
        await _prepare(database_url)

        api = LocalBotApi()
        await api.start()
        stack.push_async_callback(api.stop)
        bot = api.add_bot(PLAYGROUND_TOKEN, BOT_USERNAME, BOT_NAME)
        balancer = Balancer()
        await balancer.start()
        stack.push_async_callback(balancer.stop)

        # The page first: it opens the personas' chats, so the instances' first notifications
        # to them (the demo data's reminders) find a chat.
        page = PlaygroundWeb(
            api,
            bot,
            timezone=ZoneInfo(Settings.model_fields["timezone"].default),
            allowed_hosts=frozenset({"localhost", "127.0.0.1", "::1", bind_host.lower()}),
        )
        runner = web.AppRunner(page.app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        stack.callback(page.close)
        folder = Path(tempfile.mkdtemp(prefix="zhiyuan-demo-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH")
        env = {name: os.environ[name] for name in keep if name in os.environ} | {
            "BOT_TOKEN": PLAYGROUND_TOKEN,
            "DATABASE_URL": database_url,
            "ADMIN_IDS": ",".join(str(admin) for admin in sorted(ADMIN_IDS)),
            "WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}{PATH}",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LOG_LEVEL": "WARNING",
            # A stopped instance's update is taken over after this many seconds.
            "INBOX_LEASE_SECONDS": "5",
        }
        started: list[Instance] = []
        for number in range(1, instances + 1):
            name = f"zy-{number}"
            relay = Relay(name, api.url, report)
            await relay.start()
            stack.push_async_callback(relay.stop)
            instance = Instance(name, env | {"BOT_API_URL": relay.url}, folder, report)
            await instance.start()
            stack.push_async_callback(instance.stop)
            started.append(instance)
        async with aiohttp.ClientSession() as session:
            for instance in started:
                await instance.wait_ready(session)
                balancer.ports.append(instance.port)
        site = web.TCPSite(runner, bind_host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
    except BaseException:
        await stack.aclose()
        raise
    return DemoCluster(
        url=f"http://{bind_host}:{bound}/",
        api=api,
        database_url=database_url,
        throwaway=throwaway,
        instances=started,
        _resources=stack,
    )


async def run_demo_cluster(
    *, host: str, port: int, database_url: str | None, out: TextIO | None = None
) -> int:
    """``zhiyuan demo-cluster``: run until Ctrl+C (SIGINT) or SIGTERM; the exit code."""
    out = out or sys.stdout

    def report(line: str) -> None:
        print(line, file=out, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        try:
            demo = await start_demo_cluster(
                host=host, port=port, database_url=database_url, report=report
            )
        except ValueError as error:
            print(f"zhiyuan demo-cluster: {error}", file=sys.stderr)
            return EXIT_CONFIG_ERROR
        except (ClusterError, OSError) as error:
            print(f"zhiyuan demo-cluster: {error}", file=sys.stderr)
            return 1
        try:
            report(
                f"{len(demo.instances)} instances (webhook mode) are running: open {demo.url} "
                "in your browser; each answer is listed here with the instance that sent it.\n"
                "Press Ctrl+C to stop."
            )
            await stop.wait()
            report("Stopping the demo cluster...")
        finally:
            await demo.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return 0
