"""The playground page's own words (its buttons, menus, status line), in the personas' languages.

These are the page's texts, not the bot's: the bot speaks through its gettext catalogs, and a
Chinese persona's chat must not be framed by English controls. The page is a developer tool with
a few dozen words, so a dictionary served with the persona list is enough; ``app.js`` picks the
table of the persona shown (``ui_language``) and fills ``{placeholders}`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

UI_TEXTS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "chatting_as": "chatting as {persona}",
        "persona": "{name} ({role})",
        "connection_lost": "connection lost, retrying… ({error})",
        "persona_label": "Chat as",
        "placeholder": "Message",
        "send": "Send",
        "commands": "Commands",
        "attach": "Share contact or location",
        "keyboard": "Show or hide the bot's keyboard",
        "empty": "Pick a persona above, then send {start}.",
        "edited": "edited",
        "download": "download",
        "ok": "OK",
        "location": "Location",
        "share_contact": "📱 Share my contact",
        "share_contact_detail": "this persona's own phone number",
        "share_location": "📍 Share a location…",
        "share_location_detail": "the demo one or your own",
        "location_hint": "Share a location. The demo one is the centre of Changsha (五一广场).",
        "latitude": "Latitude",
        "longitude": "Longitude",
        "cancel": "Cancel",
        "send_location": "📍 Send location",
        "coordinates_not_numbers": "Latitude and longitude must be numbers.",
        "reveal": "Click to reveal",
        "link_refused": "This link cannot be opened here.",
        "not_simulated": "This kind of button is not simulated in the playground.",
        "rest_not_sent": "Sending stopped ({error}); the rest of your text is back in the box.",
    },
    "zh": {
        "chatting_as": "当前身份：{persona}",
        "persona": "{name}（{role}）",
        "connection_lost": "连接中断，正在重试…（{error}）",
        "persona_label": "身份",
        "placeholder": "消息",
        "send": "发送",
        "commands": "命令",
        "attach": "发送联系方式或位置",
        "keyboard": "显示或隐藏机器人的键盘",
        "empty": "请在上方选择一个身份，然后发送 {start}。",
        "edited": "已编辑",
        "download": "下载",
        "ok": "确定",
        "location": "位置",
        "share_contact": "📱 发送我的联系方式",
        "share_contact_detail": "此身份自己的手机号码",
        "share_location": "📍 发送位置…",
        "share_location_detail": "演示位置或您自己的位置",
        "location_hint": "发送一个位置，默认是长沙五一广场。",
        "latitude": "纬度",
        "longitude": "经度",
        "cancel": "取消",
        "send_location": "📍 发送位置",
        "coordinates_not_numbers": "纬度和经度必须是数字。",
        "reveal": "点击显示",
        "link_refused": "此链接无法在这里打开。",
        "not_simulated": "演示环境不模拟这种按钮。",
        "rest_not_sent": "发送中断（{error}），未发送的部分已放回输入框。",
    },
}


def ui_language(language_code: str) -> str:
    """The table for a persona's Telegram language code: any ``zh*`` is Chinese, else English
    (the bot's own rule, ``bot.i18n.resolve_language``)."""
    return "zh" if language_code.lower().startswith("zh") else "en"
