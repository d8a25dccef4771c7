"""The playground's JSON API against the real bot on demo data: conversations, edits, reply
keyboards, documents, and bad input that gets a clear JSON error without hurting the bot."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from icalendar import Calendar

from bot.demo import PERSONAS
from bot.playground import server
from bot.playground.server import (
    MAX_BODY_BYTES,
    MAX_TEXT_LENGTH,
    check_bind_address,
    run_playground,
    start_playground,
)
from tests.playground.conftest import Playground, PlaygroundClient, add_test_activity

PLACEHOLDER = re.compile(r"\{(\w+)\}")

# ----------------------------------------------------------------------------- conversations


async def test_personas_are_listed_with_the_bot(client: PlaygroundClient) -> None:
    status, data = await client.request("GET", "/api/personas")
    assert status == 200
    assert data["bot"]["username"] == "zhiyuan_playground_bot"
    assert [p["key"] for p in data["personas"]] == [p.key for p in PERSONAS]
    roles = {p["role"] for p in data["personas"]}
    assert roles == {"visitor", "volunteer", "organizer", "admin"}
    assert data["demo_location"] == {"latitude": 28.1941, "longitude": 112.9723}


async def test_the_page_gets_its_own_words_in_each_personas_language(
    client: PlaygroundClient,
) -> None:
    # The page's controls ("edited", "download", "OK", the 📎 menu) stayed English for Chinese
    # personas: they now come in both languages, and each persona says which one it uses.
    status, data = await client.request("GET", "/api/personas")
    assert status == 200
    ui = data["ui"]
    assert set(ui) == {"en", "zh"} and set(ui["en"]) == set(ui["zh"])
    assert ui["zh"]["edited"] == "已编辑" and ui["en"]["edited"] == "edited"
    for persona in data["personas"]:
        expected = "zh" if persona["language"].startswith("zh") else "en"
        assert persona["ui_language"] == expected
    for language, table in ui.items():
        for key, text in table.items():
            english = set(PLACEHOLDER.findall(ui["en"][key]))
            assert set(PLACEHOLDER.findall(text)) == english, (language, key)
    assert data["timezone"] == "Asia/Shanghai"


async def test_message_times_are_written_in_the_bots_time_zone(client: PlaygroundClient) -> None:
    # Bubbles were stamped in the browser's zone while the bot's texts speak Asia/Shanghai.
    await client.send("visitor-zh", "/start")
    welcome = await client.wait_for_text("visitor-zh", "欢迎使用志愿")
    shanghai = datetime.fromtimestamp(welcome["date"], ZoneInfo("Asia/Shanghai"))
    assert welcome["time"] == f"{shanghai:%H:%M}"


async def test_start_as_a_new_visitor_gets_the_welcome_in_their_language(
    client: PlaygroundClient,
) -> None:
    sent = await client.send("visitor-en", "/start")
    assert sent["ok"] is True
    welcome = await client.wait_for_text("visitor-en", "Welcome to Zhiyuan")
    assert "Nina" in welcome["text"]
    # Formatting arrives as entities over the visible text, never as HTML markup.
    assert "<b>" not in welcome["text"]
    assert {"type": "bold", "offset": 0, "length": len("Welcome to Zhiyuan (志愿), Nina!")} in (
        welcome["entities"]
    )
    labels = [b["text"] for row in welcome["inline_keyboard"] for b in row]
    assert "🔍 Service menu" in labels and "❓ Help" in labels
    # The user's own message is part of the chat too.
    mine = [m for m in client.messages["visitor-en"].values() if m["from"] == "user"]
    assert mine[0]["text"] == "/start"

    await client.send("visitor-zh", "/start")
    await client.wait_for_text("visitor-zh", "欢迎使用志愿")
    # The command menu is the one published for the persona's language.
    data = await client.poll("visitor-zh", wait=0)
    assert any(c["command"] == "start" and c["description"] == "主菜单" for c in data["commands"])


async def test_pressing_a_menu_button_edits_the_message_in_place(client: PlaygroundClient) -> None:
    await client.send("visitor-en", "/start")
    welcome = await client.wait_for_text("visitor-en", "Welcome to Zhiyuan")
    await client.press("visitor-en", welcome, "❓ Help")
    help_screen = await client.wait_for_text("visitor-en", "What I can do")
    assert help_screen["id"] == welcome["id"]
    assert help_screen["edited"] is True
    assert [b["text"] for row in help_screen["inline_keyboard"] for b in row] == ["🏠 Main menu"]
    # A fresh page (after=0) sees the message as it is now, not as it was.
    status, data = await client.request("GET", "/api/chat/visitor-en")
    assert status == 200
    [current] = [m for m in data["messages"] if m["id"] == welcome["id"]]
    assert "What I can do" in current["text"]


async def test_switching_personas_keeps_each_conversation(client: PlaygroundClient) -> None:
    await client.send("visitor-en", "/help")
    await client.wait_for_text("visitor-en", "What I can do")
    await client.send("admin-en", "/help")
    await client.wait_for_text("admin-en", "You are an administrator")
    status, visitor = await client.request("GET", "/api/chat/visitor-en")
    assert status == 200
    texts = [m["text"] for m in visitor["messages"]]
    assert texts[0] == "/help" and "What I can do" in texts[1]
    assert not any("administrator" in text for text in texts)


async def test_reply_keyboard_contact_and_location(client: PlaygroundClient) -> None:
    # Near me asks for a location with a reply keyboard; the demo location answers it.
    await client.send("volunteer-en", "/menu")
    menu = await client.wait_for_text("volunteer-en", "Service menu")
    await client.press("volunteer-en", menu, "📍 Near me")
    await client.wait_for_text("volunteer-en", "Share my location")
    data = await client.poll("volunteer-en", wait=0)
    assert data["reply_keyboard"]["rows"] == [
        [{"text": "📍 Share my location", "kind": "location"}]
    ]
    await client.act("volunteer-en", "location", {})
    near = await client.wait_for_text("volunteer-en", "Near you")
    assert "km" in near["text"] or " m" in near["text"]
    shared = [m for m in client.messages["volunteer-en"].values() if m["location"]]
    assert shared[-1]["location"] == {"latitude": 28.1941, "longitude": 112.9723}

    # A typed location works the same way.
    await client.act("volunteer-en", "location", {"latitude": 28.2, "longitude": 112.95})
    await client.wait_for_text("volunteer-en", "Near you")

    # Registration asks for the phone number with a request_contact button.
    await client.send("visitor-en", "/register")
    consent = await client.wait_for_text("visitor-en", "Before you register")
    await client.press("visitor-en", consent, "✅ I accept")
    await client.wait_for_text("visitor-en", "your real name")
    await client.send("visitor-en", "Nina Smith")
    await client.wait_for_text("visitor-en", "your phone number")
    data = await client.poll("visitor-en", wait=0)
    [[contact_button, *_], *_] = data["reply_keyboard"]["rows"]
    assert contact_button["kind"] == "contact"
    await client.act("visitor-en", "contact")
    await client.wait_for_text("visitor-en", "your gender")
    contact = [m for m in client.messages["visitor-en"].values() if m["contact"]][-1]["contact"]
    assert contact["phone_number"] == "8613800007002"
    assert contact["user_id"] == 7002


async def test_documents_the_bot_sends_can_be_downloaded(
    playground: Playground, client: PlaygroundClient
) -> None:
    activity = await add_test_activity(playground, "Playground calendar check")
    await client.send("volunteer-en", f"/start act_{activity.activity_id}")
    card = await client.wait_for_text("volunteer-en", "Playground calendar check")
    await client.press("volunteer-en", card, "📅 Add to calendar")
    message = await client.wait_for_text("volunteer-en", "to your calendar")
    document = message["document"]
    assert document["file_name"] == f"zhiyuan-activity-{activity.activity_id}.ics"
    async with client.session.get(document["url"]) as response:
        assert response.status == 200
        assert response.content_type == "text/calendar"
        assert "attachment" in response.headers["Content-Disposition"]
        body = await response.read()
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == "Playground calendar check"


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(
    client: PlaygroundClient,
) -> None:
    for path, kind in (
        ("/", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ):
        async with client.session.get(path) as response:
            assert response.status == 200, path
            assert response.content_type == kind
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            body = await response.text()
        assert "http://" not in body.replace("http://127", "") and "https://" not in body, path
    script = await (await client.session.get("/static/app.js")).text()
    assert "innerHTML" not in script  # bot text is never parsed as HTML


# ----------------------------------------------------------------------------- bad input

LONG_TEXT = "x" * (MAX_TEXT_LENGTH + 1)

CHAT = "/api/chat/visitor-en"
BAD_REQUESTS: list[tuple[str, str, str, Any, int]] = [
    # (id, method, path, JSON body or raw bytes, expected status)
    ("unknown persona chat", "GET", "/api/chat/nobody", None, 404),
    ("unknown persona send", "POST", "/api/chat/nobody/send", {"text": "hi"}, 404),
    ("text too long", "POST", f"{CHAT}/send", {"text": LONG_TEXT}, 400),
    ("empty text", "POST", f"{CHAT}/send", {"text": "   "}, 400),
    ("missing text", "POST", f"{CHAT}/send", {"message": "hi"}, 400),
    ("text not a string", "POST", f"{CHAT}/send", {"text": 42}, 400),
    ("malformed JSON", "POST", f"{CHAT}/send", b'{"text": "hi"', 400),
    ("invalid UTF-8", "POST", f"{CHAT}/send", b'{"text": "\xff"}', 400),
    ("JSON not an object", "POST", f"{CHAT}/send", ["hi"], 400),
    ("empty body", "POST", f"{CHAT}/send", b"", 400),
    ("message_id a string", "POST", f"{CHAT}/press", {"message_id": "1", "data": "x"}, 400),
    ("message_id a bool", "POST", f"{CHAT}/press", {"message_id": True, "data": "x"}, 400),
    ("data missing", "POST", f"{CHAT}/press", {"message_id": 1}, 400),
    ("no such message", "POST", f"{CHAT}/press", {"message_id": 999, "data": "menu:help"}, 400),
    ("latitude too big", "POST", f"{CHAT}/location", {"latitude": 91, "longitude": 0}, 400),
    ("longitude missing", "POST", f"{CHAT}/location", {"latitude": 28.1}, 400),
    ("latitude a string", "POST", f"{CHAT}/location", {"latitude": "28", "longitude": 1}, 400),
    ("after not a number", "GET", f"{CHAT}?after=abc", None, 400),
    ("wait too long", "GET", f"{CHAT}?wait=1000", None, 400),
    ("negative after", "GET", f"{CHAT}?after=-1", None, 400),
    ("no such document", "GET", f"{CHAT}/document/1", None, 404),
    ("unknown route", "GET", "/api/nothing-here", None, 404),
    ("wrong method", "GET", f"{CHAT}/send", None, 405),
    ("unknown static file", "GET", "/static/secret.py", None, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_REQUESTS],
)
async def test_bad_requests_get_a_clear_json_error(
    client: PlaygroundClient, method: str, path: str, body: Any, expected: int
) -> None:
    kwargs: dict[str, Any] = {}
    if isinstance(body, bytes):
        kwargs = {"data": body, "headers": {"Content-Type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    async with client.session.request(method, path, **kwargs) as response:
        assert response.status == expected
        assert response.content_type == "application/json"
        data = await response.json()
    assert data["status"] == expected
    assert isinstance(data["error"], str) and data["error"]
    assert "Traceback" not in data["error"]


async def test_bad_input_does_not_hurt_the_bot(client: PlaygroundClient) -> None:
    await client.send("visitor-en", "/start")
    welcome = await client.wait_for_text("visitor-en", "Welcome to Zhiyuan")
    path = "/api/chat/visitor-en"

    # A button that is not on that message (forged data) is refused before the bot sees it.
    status, data = await client.request(
        "POST", f"{path}/press", json={"message_id": welcome["id"], "data": "menu:admin-tools"}
    )
    assert status == 400 and "no button" in data["error"]
    # The user's own message has no buttons to press.
    mine = next(m for m in client.messages["visitor-en"].values() if m["from"] == "user")
    status, data = await client.request(
        "POST", f"{path}/press", json={"message_id": mine["id"], "data": "menu:help"}
    )
    assert status == 400
    # Only JSON is accepted for actions (a cross-site form cannot send it without CORS).
    async with client.session.post(f"{path}/send", data="text=hi") as response:
        assert response.status == 415
        assert "application/json" in (await response.json())["error"]
    # A body over the limit is refused before it is parsed.
    oversized = json.dumps({"text": "y" * (MAX_BODY_BYTES + 10)})
    async with client.session.post(
        f"{path}/send", data=oversized, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 413
        assert "too large" in (await response.json())["error"]
    # Exactly the limit is fine.
    sent = await client.send("visitor-en", "z" * MAX_TEXT_LENGTH)
    assert sent["ok"]
    await client.wait_for_text("visitor-en", "did not understand")

    # The bot still answers.
    await client.send("visitor-en", "/help")
    await client.wait_for_text("visitor-en", "What I can do")


async def test_requests_for_another_host_name_are_refused(
    playground: Playground, client: PlaygroundClient
) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not drive the bot.
    async with client.session.get(
        "/api/personas", headers={"Host": f"evil.example:{playground.url.rsplit(':', 1)[1]}"}
    ) as response:
        assert response.status == 421
        assert "loopback" in (await response.json())["error"]
    async with client.session.get("/api/personas", headers={"Host": "localhost"}) as response:
        assert response.status == 200


async def test_a_stale_mark_from_an_earlier_run_resets_the_page(client: PlaygroundClient) -> None:
    await client.send("visitor-en", "/help")
    await client.wait_for_text("visitor-en", "What I can do")
    status, data = await client.request("GET", "/api/chat/visitor-en?after=999999999&wait=5")
    assert status == 200
    assert data["reset"] is True
    assert data["messages"][0]["text"] == "/help"


async def test_toasts_carry_the_answers_to_button_presses(client: PlaygroundClient) -> None:
    await client.send("visitor-zh", "/language")
    picker = await client.wait_for_text("visitor-zh", "请选择语言")
    await client.press("visitor-zh", picker, "English")
    await client.wait_for_text("visitor-zh", "Welcome to Zhiyuan")
    toast = await client.wait_for_toast("visitor-zh")
    assert toast == {"text": "Language: English", "alert": False}
    # The chat's own command menu now wins over the one for the client's language.
    data = await client.poll("visitor-zh", wait=0)
    assert any(c["description"] == "Main menu" for c in data["commands"])


async def test_a_flooded_bot_makes_actions_wait_with_429(
    client: PlaygroundClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "MAX_PENDING_UPDATES", 0)
    async with client.session.post(f"{CHAT}/send", json={"text": "/start"}) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert "busy" in (await response.json())["error"]
    monkeypatch.undo()
    await client.send("visitor-en", "/start")
    await client.wait_for_text("visitor-en", "Welcome to Zhiyuan")


async def test_an_unexpected_failure_is_logged_and_answered_with_json(
    playground: Playground,
    client: PlaygroundClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(playground.web, "_snapshot", broken)
    with caplog.at_level(logging.ERROR, logger="bot.playground"):
        status, data = await client.request("GET", CHAT)
    assert status == 500
    assert data == {"error": "internal error in the playground; see its log", "status": 500}
    [record] = [r for r in caplog.records if r.name == "bot.playground"]
    assert "GET /api/chat/visitor-en failed (persona visitor-en)" in record.getMessage()
    assert record.exc_info is not None
    monkeypatch.undo()
    await client.send("visitor-en", "/start")
    await client.wait_for_text("visitor-en", "Welcome to Zhiyuan")


# ----------------------------------------------------------------------------- binding


def test_only_loopback_addresses_are_allowed_without_allow_public() -> None:
    assert check_bind_address("127.0.0.1", False) == "127.0.0.1"
    assert check_bind_address("127.0.0.2", False) == "127.0.0.2"
    assert check_bind_address("::1", False) == "::1"
    assert check_bind_address("[::1]", False) == "::1"
    assert check_bind_address("localhost", False) == "localhost"
    for public in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        with pytest.raises(ValueError, match="--allow-public"):
            check_bind_address(public, False)
        assert check_bind_address(public, True)
    with pytest.raises(ValueError):
        check_bind_address("  ", True)


async def test_a_public_host_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        await start_playground(host="0.0.0.0", port=0, database=tmp_path / "x.sqlite3")
    assert not (tmp_path / "x.sqlite3").exists()
    code = await run_playground(host="0.0.0.0", port=0, database=tmp_path / "x.sqlite3")
    assert code == 2
    assert "--allow-public" in capsys.readouterr().err


async def test_a_busy_port_is_a_clear_error(
    playground: Playground, capsys: pytest.CaptureFixture[str]
) -> None:
    port = int(playground.url.rstrip("/").rsplit(":", 1)[1])
    out = io.StringIO()
    code = await run_playground(host="127.0.0.1", port=port, out=out)
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


async def test_the_temporary_database_is_deleted_on_stop() -> None:
    running = await start_playground(host="127.0.0.1", port=0, database=None)
    try:
        assert running.temporary_database and running.database.exists()
        async with (
            aiohttp.ClientSession(base_url=running.url) as session,
            session.get("/api/personas") as response,
        ):
            assert response.status == 200
    finally:
        await running.stop()
    assert not running.database.parent.exists()


async def test_a_kept_database_is_reused_without_loading_twice(tmp_path: Path) -> None:
    path = tmp_path / "kept.sqlite3"
    first = await start_playground(host="127.0.0.1", port=0, database=path)
    await first.stop()
    second = await start_playground(host="127.0.0.1", port=0, database=path)
    await second.stop()
    assert first.demo_loaded is True and second.demo_loaded is False
    assert path.exists()


# ----------------------------------------------------------------------------- the command


async def test_zhiyuan_playground_prints_the_address_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    keep = ("PATH", "HOME", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["BOT_TOKEN"] = "not-a-token"  # must be ignored: the playground has its own
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "playground",
        "--port",
        "0",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        assert "open http://127.0.0.1:" in first
        url = first.split("open ", 1)[1].split()[0]
        rest = (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode()
        rest += (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode()
        assert "Ctrl+C" in rest
        async with (
            aiohttp.ClientSession() as session,
            session.get(url + "api/personas") as response,
        ):
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert "playground stopped" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    # Start-up printed ~170 INFO lines (demo sign-ups, scheduler jobs) before the address: the
    # console keeps the address, the playground's own lifecycle and warnings (--verbose: all).
    chatter = [
        line
        for line in stderr.decode().splitlines()
        if " INFO " in line and " bot.playground: " not in line
    ]
    assert chatter == []


async def test_zhiyuan_playground_refuses_a_public_host(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "playground",
        "--host",
        "0.0.0.0",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert "--allow-public" in stderr.decode()


async def test_the_admin_persona_approves_the_waiting_application(client: PlaygroundClient) -> None:
    """The demo data's application (sent by the English visitor) goes through the admin panel,
    and the decision reaches the visitor's own chat."""
    await client.send("admin-en", "/admin")
    panel = await client.wait_for_text("admin-en", "Administrator panel")
    await client.press("admin-en", panel, "📥 Applications (1)")
    pending = await client.wait_for_text("admin-en", "Applications waiting for review")
    await client.press(
        "admin-en",
        pending,
        "Meixi Lake International School Volunteer Club · ⏳ waiting for review",
    )
    detail = await client.wait_for_text("admin-en", "Nina Clarke")
    await client.press("admin-en", detail, "✅ Approve")
    await client.wait_for_text("admin-en", "is approved")
    await client.wait_for_text("visitor-en", "is approved! You are its manager")
