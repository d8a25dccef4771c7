"""The playground page in a real browser: Debian's headless Chromium driven by Playwright.

Skipped, with the reason shown, only when ``/usr/bin/chromium`` or the ``playwright`` package
is missing (``.ci/run`` installs both). Playwright's own browser downloads are never used, and
every wait is Playwright's auto-waiting ``expect``: no sleeps.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.demo import PERSONAS
from bot.localapi.formatting import parse_html
from bot.playground.server import Playground
from tests.playground.conftest import add_test_activity

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: nothing may try to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    reason = _missing()
    if reason is not None:
        pytest.skip(f"browser test skipped: {reason}")
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, playground: Playground) -> AsyncIterator[Page]:
    # Phone-sized, to exercise the mobile layout.
    context = await browser.new_context(viewport={"width": 400, "height": 800})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    await opened.goto(playground.url)
    try:
        yield opened
    finally:
        await context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def send(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def test_a_new_visitor_starts_and_presses_a_menu_button(page: Page) -> None:
    from playwright.async_api import expect

    await page.select_option("#persona", "visitor-en")
    await send(page, "/start")
    bot = page.locator(".msg.bot").last
    await expect(bot.locator(".text")).to_contain_text("Welcome to Zhiyuan (志愿), Nina!")
    # Bold from the bot's HTML arrives as an entity and becomes a <b> element.
    await expect(bot.locator(".text b")).to_have_text("Welcome to Zhiyuan (志愿), Nina!")
    await expect(page.locator(".msg.user").last).to_contain_text("/start")
    await expect(page.locator("#text")).to_have_value("")

    await bot.get_by_role("button", name="❓ Help").click()
    # The same message changes in place: still one bot message, now marked as edited.
    await expect(bot.locator(".text")).to_contain_text("What I can do")
    await expect(page.locator(".msg.bot")).to_have_count(1)
    await expect(bot.locator(".edited")).to_be_visible()

    # Another persona has its own conversation, and switching back keeps the first one.
    await page.select_option("#persona", "visitor-zh")
    await expect(page.locator(".msg")).to_have_count(0)
    await send(page, "/start")
    await expect(page.locator(".msg.bot .text").last).to_contain_text("欢迎使用志愿")
    await page.select_option("#persona", "visitor-en")
    await expect(page.locator(".msg.bot .text").last).to_contain_text("What I can do")
    await expect(page.locator(".msg")).to_have_count(2)


async def test_a_volunteer_finds_an_activity_signs_up_and_downloads_the_calendar_file(
    page: Page, playground: Playground
) -> None:
    from playwright.async_api import expect

    title = "Browser test river walk"
    await add_test_activity(playground, title)

    await page.select_option("#persona", "volunteer-en")
    await send(page, "/start")
    bot = page.locator(".msg.bot").last
    await expect(bot.locator(".text")).to_contain_text("Welcome to Zhiyuan (志愿), Tom!")
    await bot.get_by_role("button", name="🔍 Service menu").click()
    await expect(bot.locator(".text")).to_contain_text("activities are open")
    await bot.get_by_role("button", name=re.compile(r"^Environment \(\d+\)$")).click()
    await expect(bot.locator(".text")).to_contain_text(title)
    await bot.get_by_role("button", name=re.compile(re.escape(title))).click()
    sign_up = bot.get_by_role("button", name="✋ Sign up")
    await expect(sign_up).to_be_visible()
    await sign_up.click()
    await expect(page.locator("#messages")).to_contain_text("You are signed up")

    # The card offers the .ics file; it arrives as a document to download.
    await page.locator(".msg.bot").last.get_by_role("button", name="📅 Add to calendar").click()
    document = page.locator(".msg.bot a.document").last
    await expect(document).to_contain_text(".ics")
    async with page.expect_download() as download_info:
        await document.click()
    download = await download_info.value
    assert download.suggested_filename.startswith("zhiyuan-activity-")
    saved = Path(await download.path())
    assert "BEGIN:VCALENDAR" in await asyncio.to_thread(saved.read_text, encoding="utf-8")


async def test_near_me_shares_the_demo_location_from_the_reply_keyboard(page: Page) -> None:
    from playwright.async_api import expect

    await page.select_option("#persona", "volunteer-en")
    await send(page, "/menu")
    bot = page.locator(".msg.bot").last
    await bot.get_by_role("button", name="📍 Near me").click()
    # The bot asks with a request_location reply keyboard button.
    share = page.locator("#reply-keyboard").get_by_role("button", name="📍 Share my location")
    await expect(share).to_be_visible()
    await share.click()
    await expect(page.locator("#latitude")).to_have_value("28.1941")
    await page.get_by_role("button", name="📍 Send location").click()
    await expect(page.locator(".msg.user .location").last).to_contain_text("28.19410, 112.97230")
    await expect(page.locator(".msg.bot .text").last).to_contain_text("Near you")


async def test_bot_text_is_drawn_from_entities_and_never_parsed_as_html(
    page: Page, playground: Playground
) -> None:
    from playwright.async_api import expect

    await page.select_option("#persona", "visitor-en")
    await send(page, "<b>not bold</b> <img src=x onerror=alert(1)>")
    await expect(page.locator(".msg.bot .text").last).to_contain_text("did not understand")
    # A hostile bot message, straight into the simulated chat: markup-looking text, a
    # javascript: link, nesting, and an emoji before it all (entity offsets count UTF-16 units).
    markup = (
        "🎉 <b>Bold <i>italic</i></b> &lt;img src=x onerror=alert(1)&gt; "
        '<a href="https://example.org/x">safe</a> <a href="javascript:alert(1)">evil</a> '
        "<code>&lt;code&gt;</code> <s>gone</s> <u>under</u> <tg-spoiler>secret</tg-spoiler>\n"
        "<pre>line 1\nline 2</pre>"
    )
    formatted = parse_html(markup)
    api = playground.api
    chat = api.find_chat(playground.bot, 7002)
    assert chat is not None
    api.bot_message(
        api.bot_state(playground.bot),
        chat,
        text=markup,
        plain_text=formatted.text,
        parse_mode="HTML",
        entities=formatted.entities,
    )

    text = page.locator(".msg.bot .text").last
    await expect(text).to_contain_text("<img src=x onerror=alert(1)>")
    await expect(text.locator("b")).to_have_text("Bold italic")
    await expect(text.locator("b > i")).to_have_text("italic")
    await expect(text.locator("a")).to_have_count(1)
    await expect(text.locator("a")).to_have_attribute("href", "https://example.org/x")
    await expect(text.locator(".bad-link")).to_have_text("evil")
    await expect(text.locator("code")).to_have_text("<code>")
    await expect(text.locator("s")).to_have_text("gone")
    await expect(text.locator("u")).to_have_text("under")
    await expect(text.locator(".spoiler")).to_have_text("secret")
    await expect(text.locator("pre")).to_have_text("line 1\nline 2")
    # What the user typed is shown as typed.
    mine = page.locator(".msg.user .text").last
    await expect(mine).to_have_text("<b>not bold</b> <img src=x onerror=alert(1)>")
    await expect(page.locator("#messages img")).to_have_count(0)
    await expect(page.locator("#messages b")).to_have_count(1)


async def phone_page(
    browser: Browser, playground: Playground, timezone_id: str | None = None
) -> Page:
    """A 390 px wide phone (an iPhone 12–15) on the playground; closed with its context."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id=timezone_id
    )
    opened = await context.new_page()
    await opened.goto(playground.url)
    return opened


async def test_a_long_paste_is_sent_as_several_messages(page: Page) -> None:
    from playwright.async_api import expect

    # The box had maxlength=4096 and cut a longer paste silently. Telegram's clients send it as
    # several messages instead, cut at a line break (else a space) near the limit.
    lines = [f"line {number}: " + "word " * 12 for number in range(160)]
    pasted = "\n".join(lines)
    assert len(pasted) > 2 * 4096
    await page.select_option("#persona", "visitor-en")
    await send(page, pasted)
    await expect(page.locator(".msg.user")).to_have_count(3)
    await expect(page.locator("#text")).to_have_value("")
    sent = await page.locator(".msg.user .text").all_text_contents()
    assert all(len(text) <= 4096 for text in sent)
    assert "\n".join(sent) == pasted  # cut at line breaks: nothing lost, nothing cut mid-line
    assert sent[0].endswith(lines[len(sent[0].splitlines()) - 1])

    # Without a line break or a space it is cut at the limit.
    await send(page, "y" * 5000)
    await expect(page.locator(".msg.user")).to_have_count(5)
    sent = await page.locator(".msg.user .text").all_text_contents()
    assert sent[3:] == ["y" * 4096, "y" * 904]


async def test_a_chinese_persona_gets_chinese_controls_and_the_bots_times(
    browser: Browser, playground: Playground
) -> None:
    from playwright.async_api import expect

    # The browser is in New York; the bot speaks Asia/Shanghai, and so must the bubbles.
    page = await phone_page(browser, playground, timezone_id="America/New_York")
    try:
        await page.select_option("#persona", "volunteer-zh")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        await expect(page.locator("#text")).to_have_attribute("placeholder", "消息")
        await expect(page.locator("#status")).to_contain_text("当前身份：王芳（")
        await send(page, "/start")
        bot = page.locator(".msg.bot").last
        await bot.get_by_role("button", name="🔍 服务菜单").click()
        await expect(bot.locator(".edited")).to_have_text("已编辑")

        chat = playground.api.find_chat(playground.bot, 7101)
        assert chat is not None
        sent_at = datetime.fromtimestamp(chat.messages[-1].date, ZoneInfo("Asia/Shanghai"))
        await expect(bot.locator("time")).to_have_text(f"{sent_at:%H:%M}")

        await page.get_by_role("button", name="发送联系方式或位置").click()
        menu = page.locator("#menu")
        await expect(menu).to_contain_text("📱 发送我的联系方式")
        await expect(menu).to_contain_text("📍 发送位置…")
        await menu.get_by_role("button", name="📍 发送位置…").click()
        panel = page.locator("#location-panel")
        await expect(panel).to_contain_text("纬度")
        await expect(panel.get_by_role("button", name="取消")).to_be_visible()
        assert "Share" not in await page.locator("body").inner_text()

        # Back to an English persona, the controls are English again.
        await page.select_option("#persona", "volunteer-en")
        await expect(page.locator("#text")).to_have_attribute("placeholder", "Message")
        await expect(panel.get_by_role("button", name="Cancel")).to_have_count(0)
    finally:
        await page.context.close()


# Everything in the top bar must be readable on a phone: the status line not cut with "…",
# the selected persona's whole name and role inside its picker, nothing past the right edge.
_TOP_BAR_FITS = """() => {
    const status = document.querySelector('#status');
    const select = document.querySelector('#persona');
    const probe = document.createElement('span');
    probe.style.font = getComputedStyle(select).font;
    probe.style.whiteSpace = 'pre';
    probe.textContent = select.selectedOptions[0].textContent;
    document.body.append(probe);
    const needed = probe.getBoundingClientRect().width;
    probe.remove();
    const box = select.getBoundingClientRect();
    return {
        statusCut: status.scrollWidth > status.clientWidth,
        statusRight: status.getBoundingClientRect().right,
        selectRight: box.right,
        // padding and the drop-down arrow take about 40 px of the picker
        selectRoom: box.width - 40 - needed,
        width: document.documentElement.clientWidth,
    };
}"""


async def test_the_top_bar_fits_a_390_px_phone_in_both_languages(
    browser: Browser, playground: Playground
) -> None:
    from playwright.async_api import expect

    page = await phone_page(browser, playground)
    try:
        for persona in PERSONAS:
            await page.select_option("#persona", persona.key)
            await expect(page.locator("#status")).to_contain_text(persona.first_name)
            fits = await page.evaluate(_TOP_BAR_FITS)
            assert not fits["statusCut"], (persona.key, fits)
            assert fits["statusRight"] <= fits["width"], (persona.key, fits)
            assert fits["selectRight"] <= fits["width"], (persona.key, fits)
            assert fits["selectRoom"] >= 0, (persona.key, fits)
    finally:
        await page.context.close()
