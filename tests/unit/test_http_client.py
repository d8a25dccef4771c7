"""What the bot leaves out of Bot API JSON it never reads: the inline keyboard of a message it
sent or edited (bot.http_client) and of the message a button was pressed on (bot.inbox)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from telegram import Message, Update

from bot.http_client import AiohttpRequest
from bot.inbox import new_update

ROOT = Path(__file__).resolve().parents[2]
KEYBOARD = {"inline_keyboard": [[{"text": "✋ Sign up", "callback_data": "su.join:7:fy"}]]}
MESSAGE = {
    "message_id": 5,
    "date": 1_700_000_000,
    "chat": {"id": 42, "type": "private"},
    "text": "Riverside walk",
    "reply_markup": KEYBOARD,
}


def test_a_sent_message_comes_back_without_its_keyboard_and_other_results_unchanged() -> None:
    sent = AiohttpRequest.parse_json_payload(json.dumps({"ok": True, "result": MESSAGE}).encode())
    assert "reply_markup" not in sent["result"] and sent["result"]["text"] == "Riverside walk"
    message = Message.de_json(sent["result"], None)
    assert message is not None and message.message_id == 5 and message.reply_markup is None
    other = {"ok": True, "result": {"id": 1, "is_bot": True, "reply_markup": "kept"}}
    assert AiohttpRequest.parse_json_payload(json.dumps(other).encode()) == other
    assert AiohttpRequest.parse_json_payload(b'{"ok":true,"result":true}')["result"] is True


def test_a_stored_press_keeps_everything_but_the_keyboard_it_was_pressed_on() -> None:
    press = {
        "update_id": 9,
        "callback_query": {
            "id": "q1",
            "from": {"id": 42, "is_bot": False, "first_name": "Ann"},
            "chat_instance": "c",
            "data": "su.join:7:fy",
            "message": MESSAGE,
        },
    }
    stored = json.loads(new_update(press).payload)
    assert "reply_markup" not in stored["callback_query"]["message"]
    assert MESSAGE["reply_markup"] == KEYBOARD  # the caller's dict is left alone
    update = Update.de_json(stored, None)
    assert update is not None and update.callback_query is not None
    assert update.callback_query.data == "su.join:7:fy"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == 5
    typed = {"update_id": 10, "message": MESSAGE}
    assert json.loads(new_update(typed).payload)["message"]["reply_markup"] == KEYBOARD


def test_no_code_of_the_bot_reads_a_messages_keyboard() -> None:
    """What makes leaving the keyboards out safe: nothing reads ``.reply_markup`` (passing
    ``reply_markup=`` to a send is writing, not reading). The local Bot API server, which
    plays Telegram, keeps them."""
    readers = []
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "localapi" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr == "reply_markup":
                    readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []
