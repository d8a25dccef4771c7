"""A round-robin balancer in front of several local bot instances in webhook mode, as a load
balancer stands in front of them in production (tests and ``bench.instances``)."""

from __future__ import annotations

import itertools
import socket

import aiohttp
from aiohttp import web

#: The path the instances and the balancer serve webhooks on.
PATH = "/telegram"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Balancer:
    """Round robin over the instances that answer; a refused connection tries the next."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = free_port()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": request.headers.get(
                "X-Telegram-Bot-Api-Secret-Token", ""
            ),
            "Content-Type": "application/json",
        }
        assert self._session is not None
        for _ in range(len(self.ports) or 1):
            if not self.ports:
                break
            port = self.ports[next(self._next) % len(self.ports)]
            try:
                async with self._session.post(
                    f"http://127.0.0.1:{port}{PATH}", data=body, headers=headers
                ) as answer:
                    return web.Response(status=answer.status, text=await answer.text())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502, text="no instance")
