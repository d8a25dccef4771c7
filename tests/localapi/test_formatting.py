"""Telegram's markup dialects: visible text, UTF-16 entities, and Telegram's parse errors."""

from __future__ import annotations

import pytest

from bot.localapi.errors import EntityParseError
from bot.localapi.formatting import (
    detect_bot_commands,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    parse_text,
    utf16_len,
)


def spans(text: str, entities: list[dict[str, object]]) -> list[tuple[str, str]]:
    """(type, covered text) pairs, decoding UTF-16 offsets."""
    encoded = text.encode("utf-16-le")
    result = []
    for e in entities:
        start, length = int(str(e["offset"])) * 2, int(str(e["length"])) * 2
        result.append((str(e["type"]), encoded[start : start + length].decode("utf-16-le")))
    return result


def test_utf16_len() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("志愿") == 2
    assert utf16_len("😀") == 2


def test_html_tags_and_entities() -> None:
    parsed = parse_html(
        "<b>Bold <i>both</i></b> <u>u</u> <s>s</s> <tg-spoiler>sp</tg-spoiler> "
        '<span class="tg-spoiler">sp2</span> <a href="https://e.org/?a=1&amp;b=2">link</a> '
        "<code>x &lt; y</code> &quot;q&quot; &#20013;&#x6587; &copy;"
    )
    assert parsed.text == 'Bold both u s sp sp2 link x < y "q" 中文 &copy;'
    assert spans(parsed.text, parsed.entities) == [
        ("bold", "Bold both"),
        ("italic", "both"),
        ("underline", "u"),
        ("strikethrough", "s"),
        ("spoiler", "sp"),
        ("spoiler", "sp2"),
        ("text_link", "link"),
        ("code", "x < y"),
    ]
    link = next(e for e in parsed.entities if e["type"] == "text_link")
    assert link["url"] == "https://e.org/?a=1&b=2"


def test_html_pre_with_language_blockquote_and_emoji() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">print(1)</code></pre>\n'
        "<blockquote expandable>quote</blockquote> "
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert parsed.text == "print(1)\nquote 👍"
    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 8, "language": "python"},
        {"type": "expandable_blockquote", "offset": 9, "length": 5},
        {
            "type": "custom_emoji",
            "offset": 15,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
    ]


def test_html_offsets_count_utf16_and_text_is_trimmed() -> None:
    parsed = parse_html("\n  😀 <b>志愿者</b>  \n")
    assert parsed.text == "😀 志愿者"
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 3}]


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("志 <p>", 'Unsupported start tag "p" at byte offset 4'),
        ("a <b", "Unclosed start tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ('<span class="x">a</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_errors(markup: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(markup)
    assert str(caught.value) == message


def test_markdown_v2_entities_and_escapes() -> None:
    parsed = parse_markdown_v2(
        r"*bold _italic_* __under__ ~strike~ ||spoiler|| [link](https://e.org/a\)b) "
        r"`co\`de` 1\.5 \- ok\!"
    )
    assert parsed.text == "bold italic under strike spoiler link co`de 1.5 - ok!"
    assert spans(parsed.text, parsed.entities) == [
        ("bold", "bold italic"),
        ("italic", "italic"),
        ("underline", "under"),
        ("strikethrough", "strike"),
        ("spoiler", "spoiler"),
        ("text_link", "link"),
        ("code", "co`de"),
    ]
    link = next(e for e in parsed.entities if e["type"] == "text_link")
    assert link["url"] == "https://e.org/a)b"


def test_markdown_v2_pre_and_blockquote() -> None:
    parsed = parse_markdown_v2("```python\nx = 1 + 2.\n```\n>quoted\n>lines\nafter")
    assert parsed.text == "x = 1 + 2.\n\nquoted\nlines\nafter"
    assert spans(parsed.text, parsed.entities) == [
        ("pre", "x = 1 + 2.\n"),
        ("blockquote", "quoted\nlines"),
    ]
    assert parsed.entities[0]["language"] == "python"


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("Done.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*open", "Can't find end of Bold entity at byte offset 0"),
        ("x _open", "Can't find end of Italic entity at byte offset 2"),
        ("`code", "Can't find end of Code entity at byte offset 0"),
    ],
)
def test_markdown_v2_errors(markup: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_markdown_v2(markup)
    assert str(caught.value) == message


def test_legacy_markdown() -> None:
    parsed = parse_markdown(r"*bold* _it_ `code` [link](https://e.org) a\_b 1.5!")
    assert parsed.text == "bold it code link a_b 1.5!"
    assert [e["type"] for e in parsed.entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte"):
        parse_markdown("*unclosed")


def test_parse_text_dispatch() -> None:
    assert parse_text("<b>x</b>", "HTML").text == "x"
    assert parse_text("<b>x</b>", None).text == "<b>x</b>"
    explicit = parse_text(" hi ", None, [{"type": "bold", "offset": 1, "length": 2}])
    assert (explicit.text, explicit.entities) == (
        "hi",
        [{"type": "bold", "offset": 0, "length": 2}],
    )
    with pytest.raises(ValueError, match="unsupported parse_mode"):
        parse_text("x", "BBCode")


def test_detect_bot_commands() -> None:
    assert detect_bot_commands("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert detect_bot_commands("/help@zhiyuan_bot") == [
        {"type": "bot_command", "offset": 0, "length": 17}
    ]
    assert detect_bot_commands("志愿 /join now") == [
        {"type": "bot_command", "offset": 3, "length": 5}
    ]
    assert detect_bot_commands("a/b and path/to") == []
