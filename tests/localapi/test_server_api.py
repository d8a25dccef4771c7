"""The local Bot API seen through the real PTB ``telegram.Bot`` and through raw HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMemberBanned,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MenuButtonCommands,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    WebAppInfo,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from bot.localapi import BotInfo, EventKind, LocalBotApi
from tests.localapi.conftest import ALICE, BOB, TOKEN, make_bot

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="yes"),
            InlineKeyboardButton("No", callback_data="no"),
        ]
    ]
)


def api(server: LocalBotApi, method: str, token: str = TOKEN) -> str:
    return f"{server.url}/bot{token}/{method}"


async def test_get_me(bot: Bot, bot_info: BotInfo) -> None:
    me = await bot.get_me()
    assert me.id == 123456 == bot_info.id
    assert me.is_bot
    assert me.username == "zhiyuan_test_bot"
    assert me.first_name == "Zhiyuan"
    assert bot.username == "zhiyuan_test_bot"


async def test_unknown_token_is_invalid_token(server: LocalBotApi, bot_info: BotInfo) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(server, "999:not-registered"):
            pass
    async with httpx.AsyncClient() as client:
        response = await client.post(api(server, "getMe", "999:nope"))
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_404_and_method_names_ignore_case(
    server: LocalBotApi, bot_info: BotInfo
) -> None:
    async with httpx.AsyncClient() as client:
        missing = await client.post(api(server, "sendVideoNote"), data={"chat_id": "1"})
        lower = await client.get(api(server, "getme"))
    assert missing.status_code == 404
    assert missing.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert lower.status_code == 200
    assert lower.json()["result"]["username"] == "zhiyuan_test_bot"


async def test_send_message_html_with_inline_keyboard(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_text(bot_info, ALICE, "hello")
    sent = await bot.send_message(
        ALICE.id,
        "<b>Welcome</b>, A &amp; B 😀 <i>x</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
        disable_notification=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert sent.text == "Welcome, A & B 😀 x"
    assert sent.chat.id == ALICE.id
    assert sent.from_user is not None and sent.from_user.id == bot_info.id
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 7),
        ("italic", 18, 1),  # the emoji counts as two UTF-16 code units
    ]
    assert sent.reply_markup == KEYBOARD
    assert sent.text_html == "<b>Welcome</b>, A &amp; B 😀 <i>x</i>"

    stored = server.message(bot_info, ALICE.id, sent.message_id)
    assert stored.text == "<b>Welcome</b>, A &amp; B 😀 <i>x</i>"
    assert stored.plain_text == "Welcome, A & B 😀 x"
    assert stored.parse_mode == "HTML"
    assert stored.disable_notification
    assert stored.link_preview_options == {"is_disabled": True}
    assert stored.button_labels() == ["Yes", "No"]
    assert [m.from_bot for m in server.history(bot_info, ALICE.id)] == [False, True]
    assert server.stats.messages_sent == 1
    assert server.stats.requests["sendMessage"] == 1


async def test_markdown_v2_visible_text(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    sent = await bot.send_message(
        ALICE.id, r"*Event:* Beach cleanup \(Sat\.\)", parse_mode=ParseMode.MARKDOWN_V2
    )
    assert sent.text == "Event: Beach cleanup (Sat.)"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: character '\.' is reserved"):
        await bot.send_message(ALICE.id, "Ends at 5.", parse_mode=ParseMode.MARKDOWN_V2)


async def test_reply_keyboards_are_stored_but_not_echoed(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share phone", request_contact=True)], ["Skip"]], one_time_keyboard=True
    )
    sent = await bot.send_message(ALICE.id, "Your phone?", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    chat = server.chat(bot_info, ALICE.id)
    assert chat.reply_keyboard is not None
    assert chat.reply_keyboard["keyboard"][1] == [{"text": "Skip"}]
    await bot.send_message(ALICE.id, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert chat.reply_keyboard is None


async def test_chat_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hello?")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(424242)


async def test_text_validation_errors(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALICE.id, "  \n ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALICE.id, "<b> </b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Unsupported parse_mode"):
        await bot.send_message(ALICE.id, "x", parse_mode="BBCode")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALICE.id, "x" * 4097)
    # The limit applies to the visible text, not to the markup.
    await bot.send_message(ALICE.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("<blink>hi</blink>", 'unsupported start tag "blink" at byte offset 0'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "unexpected end tag at byte offset 1"),
    ],
)
async def test_malformed_html_is_rejected(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo, markup: str, expected: str
) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ALICE.id, markup, parse_mode=ParseMode.HTML)
    # PTB capitalizes the description after dropping "Bad Request: ".
    assert str(caught.value).lower() == "can't parse entities: " + expected.lower()
    assert server.bot_messages(bot_info, ALICE.id) == []
    errors = [e for e in server.events if e.kind is EventKind.API_ERROR]
    assert errors and "can't parse entities" in errors[-1].detail


async def test_button_data_too_long(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(ALICE.id, "64 bytes is fine", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALICE.id, "65 bytes is not", reply_markup=too_long)


async def test_text_only_inline_button_is_rejected(server: LocalBotApi, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    markup = {"inline_keyboard": [[{"text": "just text"}]]}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            api(server, "sendMessage"),
            json={"chat_id": ALICE.id, "text": "x", "reply_markup": markup},
        )
    assert response.status_code == 400
    assert "Text buttons are unallowed" in response.json()["description"]


async def test_edit_message_text_and_not_modified(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    sent = await bot.send_message(ALICE.id, "Question?", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified") as caught:
        await bot.edit_message_text("Question?", ALICE.id, sent.message_id, reply_markup=KEYBOARD)
    assert "exactly the same as a current content and reply markup" in str(caught.value)

    edited = await bot.edit_message_text(
        "<b>Answered</b>", ALICE.id, sent.message_id, parse_mode=ParseMode.HTML
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Answered"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # omitting reply_markup removes the keyboard

    stored = server.message(bot_info, ALICE.id, sent.message_id)
    assert stored.plain_text == "Answered"
    assert [v.plain_text for v in stored.edits] == ["Question?"]
    assert stored.edits[0].reply_markup == KEYBOARD.to_dict()
    kinds = [e.kind for e in server.events_since(0)]
    assert kinds.count(EventKind.BOT_EDIT) == 1

    restored = await bot.edit_message_reply_markup(ALICE.id, sent.message_id, reply_markup=KEYBOARD)
    assert not isinstance(restored, bool) and restored.reply_markup == KEYBOARD
    await bot.edit_message_reply_markup(ALICE.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(ALICE.id, sent.message_id)


async def test_edit_and_delete_missing_messages(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    user_message = server.user_send_text(bot_info, ALICE, "hi")
    sent = await bot.send_message(ALICE.id, "temporary")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALICE.id, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", ALICE.id, user_message.message_id)
    assert await bot.delete_message(ALICE.id, sent.message_id)
    assert server.message(bot_info, ALICE.id, sent.message_id).deleted
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALICE.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE.id, sent.message_id)
    # Bots may delete what users wrote in private chats.
    assert await bot.delete_message(ALICE.id, user_message.message_id)


async def test_reply_parameters(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    asked = server.user_send_text(bot_info, ALICE, "Can I join?")
    reply = await bot.send_message(
        ALICE.id, "Yes!", reply_parameters=ReplyParameters(asked.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "Can I join?"
    assert server.message(bot_info, ALICE.id, reply.message_id).reply_to is asked
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ALICE.id, "?", reply_parameters=ReplyParameters(777))
    lenient = ReplyParameters(777, allow_sending_without_reply=True)
    assert (
        await bot.send_message(ALICE.id, "ok", reply_parameters=lenient)
    ).reply_to_message is None


async def test_blocked_user_gives_forbidden_and_member_updates(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    server.user_blocks_bot(bot_info, ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE.id, "news")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(ALICE.id, ChatAction.TYPING)
    server.user_unblocks_bot(bot_info, ALICE)
    await bot.send_message(ALICE.id, "welcome back")

    updates = await bot.get_updates()
    assert updates[0].message is not None
    blocked, unblocked = updates[1].my_chat_member, updates[2].my_chat_member
    assert blocked is not None and unblocked is not None
    assert isinstance(blocked.new_chat_member, ChatMemberBanned)
    assert isinstance(blocked.old_chat_member, ChatMemberMember)
    assert blocked.from_user.id == ALICE.id
    assert blocked.chat.id == ALICE.id
    assert isinstance(unblocked.new_chat_member, ChatMemberMember)


async def test_answer_callback_query(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    sent = await bot.send_message(ALICE.id, "Join?", reply_markup=KEYBOARD)
    query_id = server.user_press_button(bot_info, ALICE, sent.message_id, "yes")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "yes"
    assert query.from_user.id == ALICE.id
    assert isinstance(query.message, Message)
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == KEYBOARD

    assert await query.answer("Saved!", show_alert=True)
    answer = server.callback_query(query_id).answer
    assert answer is not None
    assert (answer.text, answer.show_alert) == ("Saved!", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")
    with pytest.raises(BadRequest, match="query id is invalid"):
        await bot.answer_callback_query("no-such-query")


async def test_form_json_query_and_multipart_bodies(server: LocalBotApi, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with httpx.AsyncClient() as client:
        as_json = await client.post(
            api(server, "sendMessage"),
            json={"chat_id": ALICE.id, "text": "json", "reply_markup": markup},
        )
        as_form = await client.post(
            api(server, "sendMessage"),
            data={"chat_id": str(ALICE.id), "text": "form", "reply_markup": json.dumps(markup)},
        )
        as_query = await client.get(
            api(server, "sendMessage"), params={"chat_id": ALICE.id, "text": "query"}
        )
        as_multipart = await client.post(
            api(server, "sendMessage"),
            data={"chat_id": str(ALICE.id), "text": "multipart"},
            files={"unused": ("a.txt", b"x", "text/plain")},
        )
        bad_json = await client.post(
            api(server, "sendMessage"),
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        bad_markup = await client.post(
            api(server, "sendMessage"),
            data={"chat_id": str(ALICE.id), "text": "x", "reply_markup": "{oops"},
        )
    for response in (as_json, as_form, as_query, as_multipart):
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True
    assert as_json.json()["result"]["reply_markup"] == markup
    assert as_form.json()["result"]["reply_markup"] == markup
    assert [m.plain_text for m in server.bot_messages(bot_info, ALICE.id)] == [
        "json",
        "form",
        "query",
        "multipart",
    ]
    assert bad_json.status_code == 400
    assert bad_markup.status_code == 400
    assert bad_markup.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: can't parse reply keyboard markup JSON object",
    }


async def test_send_document_upload_and_download(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_text(bot_info, ALICE, "export please")
    payload = b"name,hours\nAlice,12\n"
    sent = await bot.send_document(
        ALICE.id, payload, filename="hours.csv", caption="<b>Your</b> hours", parse_mode="HTML"
    )
    document = sent.document
    assert document is not None
    assert document.file_name == "hours.csv"
    assert document.mime_type == "text/csv"
    assert document.file_size == len(payload)
    assert sent.caption == "Your hours"
    assert sent.caption_entities[0].type == "bold"

    stored = server.message(bot_info, ALICE.id, sent.message_id)
    assert stored.document is not None and stored.document.data == payload
    assert stored.visible_text == "Your hours"

    file = await bot.get_file(document.file_id)
    assert file.file_path is not None and file.file_path.startswith(server.file_url)
    assert bytes(await file.download_as_bytearray()) == payload

    recaptioned = await bot.edit_message_caption(ALICE.id, sent.message_id, caption="Updated")
    assert not isinstance(recaptioned, bool) and recaptioned.caption == "Updated"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_caption(ALICE.id, sent.message_id, caption="Updated")
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", ALICE.id, sent.message_id)

    again = await bot.send_document(ALICE.id, document.file_id)
    assert again.document is not None and again.document.file_id == document.file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_document(ALICE.id, "BQAC-unknown")
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("BQAC-unknown")
    async with httpx.AsyncClient() as client:
        missing = await client.get(f"{server.file_url}{TOKEN}/documents/nope.csv")
    assert missing.status_code == 404


async def test_user_document_can_be_downloaded_by_bot(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_document(bot_info, ALICE, b"%PDF-1.4", "cv.pdf", caption="my CV")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert update.message.document.mime_type == "application/pdf"
    assert update.message.caption == "my CV"
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4"


async def test_location_chat_action_get_chat(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    server.user_send_text(bot_info, ALICE, "where?")
    sent = await bot.send_location(ALICE.id, 31.2304, 121.4737)
    assert sent.location is not None
    assert (sent.location.latitude, sent.location.longitude) == (31.2304, 121.4737)
    assert server.message(bot_info, ALICE.id, sent.message_id).location == {
        "latitude": 31.2304,
        "longitude": 121.4737,
    }
    assert await bot.send_chat_action(ALICE.id, ChatAction.TYPING)
    assert server.chat(bot_info, ALICE.id).chat_actions == ["typing"]
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(ALICE.id, "dancing")
    chat = await bot.get_chat(ALICE.id)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (
        ALICE.id,
        "private",
        "Alice",
        "alice_l",
    )


async def test_get_updates_long_poll_wakes_on_update(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    # Wait until the server holds the request (no sleeping), then make the update arrive.
    await server.wait_for(lambda: server.stats.requests["getUpdates"] == 1)
    started = loop.time()
    server.user_send_text(bot_info, ALICE, "/start")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start"


async def test_get_updates_empty_after_timeout(bot: Bot, server: LocalBotApi) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert 0.25 <= loop.time() - started < 2


async def test_get_updates_offsets_and_limits(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    for text in ("one", "two", "three"):
        server.user_send_text(bot_info, ALICE, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    # Not confirmed yet: asked again, the same updates come back.
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first] + [
        first[-1].update_id + 1
    ]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert server.pending_updates(bot_info) == []

    for text in ("a", "b", "c"):
        server.user_send_text(bot_info, BOB, text)
    tail = await bot.get_updates(offset=-1)
    assert [u.message.text for u in tail if u.message] == ["c"]


async def test_allowed_updates_filter(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    server.user_send_text(bot_info, ALICE, "ignored")
    assert server.pending_updates(bot_info) == []
    await bot.get_updates(allowed_updates=[])
    server.user_send_text(bot_info, ALICE, "kept")
    assert len(server.pending_updates(bot_info)) == 1


async def test_second_poller_terminates_the_first(bot: Bot, server: LocalBotApi) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(lambda: server.bot_state(bot.token).poll_generation == 1)
    # A second instance of the same bot (a deployment mistake Telegram reports as 409).
    async with make_bot(server, bot.token) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_webhook_blocks_get_updates(server: LocalBotApi, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.org/hook", max_connections=5)
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook"
    assert info.max_connections == 5
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()
    assert await bot.log_out()
    assert await bot.close()


async def test_commands_per_scope_and_language(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo
) -> None:
    default = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    chinese = [BotCommand("start", "开始")]
    assert await bot.set_my_commands(default)
    assert await bot.set_my_commands(
        chinese, scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    assert tuple(await bot.get_my_commands()) == tuple(default)
    private_zh = await bot.get_my_commands(BotCommandScopeAllPrivateChats(), "zh")
    assert tuple(private_zh) == tuple(chinese)
    assert await bot.get_my_commands(BotCommandScopeAllPrivateChats()) == ()

    assert server.commands(bot_info) == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert server.commands(bot_info, {"type": "all_private_chats"}, "zh") == [
        {"command": "start", "description": "开始"}
    ]
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(ALICE.id))
    assert server.commands(bot_info, {"type": "chat", "chat_id": ALICE.id}) is not None

    assert await bot.delete_my_commands()
    assert server.commands(bot_info) is None
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_chat_menu_button(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    web_app = MenuButtonWebApp("Open", WebAppInfo("https://example.org/app"))
    assert await bot.set_chat_menu_button(ALICE.id, web_app)
    assert await bot.get_chat_menu_button(ALICE.id) == web_app
    assert server.chat(bot_info, ALICE.id).menu_button == web_app.to_dict()
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "hi")
    server.fail_next("sendMessage", 400, "Bad Request: injected failure", times=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match="Injected failure"):
            await bot.send_message(ALICE.id, "x")
    await bot.send_message(ALICE.id, "x")

    server.fail_next("sendmessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE.id, "x")
    assert caught.value.retry_after == 7
    server.fail_next("getChat", 403, "Forbidden: bot was kicked from the group chat")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.get_chat(ALICE.id)
    assert server.stats.injected_faults == 4
    assert server.stats.too_many_requests == 1
    assert server.stats.errors[400] == 2


async def test_commands_in_user_messages(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    server.user_send_text(bot_info, ALICE, "/start ref_42")
    server.user_send_text(bot_info, ALICE, "/help@zhiyuan_test_bot")
    server.user_send_text(bot_info, ALICE, "no /command here? yes, /this")
    first, second, third = (u.message for u in await bot.get_updates())
    assert first is not None and second is not None and third is not None
    assert first.parse_entities() == {first.entities[0]: "/start"}
    assert list(second.parse_entities().values()) == ["/help@zhiyuan_test_bot"]
    assert list(third.parse_entities().values()) == ["/command", "/this"]
    assert first.from_user is not None and first.from_user.language_code == "en"


async def test_group_chats(server: LocalBotApi, bot: Bot, bot_info: BotInfo) -> None:
    group_id = -100555
    server.create_group(bot_info, group_id, "Volunteers", members=[ALICE, BOB])
    server.user_send_text(bot_info, ALICE, "/events@zhiyuan_test_bot", chat_id=group_id)
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.chat.type == "group"
    assert update.message.chat.title == "Volunteers"
    assert update.message.from_user is not None and update.message.from_user.id == ALICE.id
    sent = await bot.send_message(group_id, "Upcoming events: none")
    assert sent.chat.id == group_id
    assert [m.visible_text for m in server.history(bot_info, group_id)] == [
        "/events@zhiyuan_test_bot",
        "Upcoming events: none",
    ]
    assert server.find_chat(bot_info, ALICE.id) is None


async def test_stop_answers_waiting_long_poll(bot_info: BotInfo) -> None:
    server = LocalBotApi()
    server.add_bot("77:stop", "stop_bot")
    await server.start()
    async with make_bot(server, "77:stop") as ptb_bot:
        poll = asyncio.create_task(ptb_bot.get_updates(timeout=30))
        await server.wait_for(lambda: server.bot_state("77:stop").poll_generation == 1)
        await asyncio.wait_for(server.stop(), 5)
        assert await asyncio.wait_for(poll, 5) == ()
