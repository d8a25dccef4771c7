"""Telegram's text formatting: parse_mode markup to visible text plus message entities.

Telegram rejects malformed markup with "can't parse entities: ..." instead of sending it, which
is a classic production-only bug (an unescaped ``<`` in a user-supplied name). Parsing the way
Telegram does lets tests catch that, and gives tests the *visible* text to assert on.

Offsets and lengths of entities are in UTF-16 code units, as in the Bot API. Error messages
follow Telegram's wording (byte offsets are UTF-8 offsets into the raw text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.localapi.errors import EntityParseError

JSONDict = dict[str, Any]

# Leading/trailing characters Telegram trims from message texts and captions.
_TRIMMED = " \t\r\n"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass(slots=True)
class FormattedText:
    """Visible text and its entities, as Telegram stores a formatted message."""

    text: str
    entities: list[JSONDict] = field(default_factory=list)


@dataclass(slots=True)
class _Builder:
    """Accumulates visible characters while tracking the UTF-16 position."""

    chars: list[str] = field(default_factory=list)
    pos16: int = 0
    entities: list[JSONDict] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.chars.append(text)
        self.pos16 += utf16_len(text)

    def entity(self, kind: str, offset: int, **extra: Any) -> None:
        length = self.pos16 - offset
        if length > 0:
            self.entities.append({"type": kind, "offset": offset, "length": length, **extra})

    def finish(self) -> FormattedText:
        return trim(FormattedText("".join(self.chars), self.entities))


def trim(formatted: FormattedText) -> FormattedText:
    """Strip leading/trailing whitespace like Telegram does, clipping entities to match."""
    full = formatted.text
    left = full.lstrip(_TRIMMED)
    lead = utf16_len(full[: len(full) - len(left)])
    text = left.rstrip(_TRIMMED)
    total = utf16_len(text)
    entities: list[JSONDict] = []
    for entity in formatted.entities:
        start = max(int(entity["offset"]) - lead, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return FormattedText(text, entities)


def parse_text(text: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """Visible text and entities for ``text`` sent with ``parse_mode`` (or explicit entities).

    Raises :class:`EntityParseError` for malformed markup and ``ValueError`` for an unknown
    parse mode.
    """
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            return parse_html(text)
        if mode == "markdownv2":
            return parse_markdown_v2(text)
        if mode == "markdown":
            return parse_markdown(text)
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    given = [dict(e) for e in entities if isinstance(e, dict)] if isinstance(entities, list) else []
    return trim(FormattedText(text, given))


# --------------------------------------------------------------------------------------------
# HTML

_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass(slots=True)
class _OpenTag:
    tag: str
    kind: str | None
    offset: int
    extra: JSONDict
    language: str | None = None


def _decode_entity(text: str, index: int) -> tuple[str | None, int]:
    """Decode one of the HTML entities Telegram supports; unknown ones stay literal text."""
    match = _HTML_ENTITY.match(text, index)
    if not match:
        return None, index
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name], match.end()
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None, index
    return chr(code), match.end()


def unescape_html(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&":
            decoded, end = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                i = end
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _parse_attributes(text: str, j: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Attributes of a start tag from ``j``; returns them and the index after ``>``."""
    n = len(text)
    attrs: dict[str, str] = {}

    def unclosed() -> EntityParseError:
        return EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")

    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise unclosed()
        if text[j] == ">":
            return attrs, j + 1
        k = j
        while k < n and not text[k].isspace() and text[k] not in "=>":
            k += 1
        if k >= n:
            raise unclosed()
        name = text[j:k].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        j = k
        while j < n and text[j].isspace():
            j += 1
        if j < n and text[j] == "=":
            j += 1
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise unclosed()
            if text[j] in "\"'":
                end = text.find(text[j], j + 1)
                if end < 0:
                    raise unclosed()
                raw = text[j + 1 : end]
                j = end + 1
            else:
                k = j
                while k < n and not text[k].isspace() and text[k] != ">":
                    k += 1
                raw = text[j:k]
                j = k
            attrs[name] = unescape_html(raw)
        else:
            attrs[name] = ""


def _open_tag(text: str, tag: str, attrs: dict[str, str], begin: int, pos16: int) -> _OpenTag:
    kind: str | None = _HTML_TAGS[tag]
    extra: JSONDict = {}
    language: str | None = None
    where = f"at byte offset {_byte_offset(text, begin)}"
    if tag == "a":
        href = attrs.get("href", "")
        if href:
            extra["url"] = href
        else:
            kind = None
    elif tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" {where}')
    elif tag == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise EntityParseError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        extra["custom_emoji_id"] = emoji_id
    elif tag == "code":
        css = attrs.get("class", "")
        if css.startswith("language-") and len(css) > len("language-"):
            language = css[len("language-") :]
    elif tag == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    return _OpenTag(tag, kind, pos16, extra, language)


def parse_html(text: str) -> FormattedText:
    """Parse Telegram's HTML dialect (a fixed tag set; ``<``, ``>``, ``&`` must be escaped)."""
    b = _Builder()
    stack: list[_OpenTag] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            decoded, end = _decode_entity(text, i)
            if decoded is not None:
                b.add(decoded)
                i = end
            else:
                b.add("&")
                i += 1
            continue
        if c != "<":
            b.add(c)
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i + 2)
            if end < 0:
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            top = stack.pop()
            if name and name != top.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            if top.tag == "code" and top.language and stack and stack[-1].tag == "pre":
                # <pre><code class="language-x"> is one pre entity with a language.
                stack[-1].extra["language"] = top.language
            elif top.kind is not None:
                b.entity(top.kind, top.offset, **top.extra)
            i = end + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[i + 1 : j].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _parse_attributes(text, j, tag, begin)
        stack.append(_open_tag(text, tag, attrs, begin, b.pos16))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return b.finish()


# --------------------------------------------------------------------------------------------
# MarkdownV2

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_CUSTOM_EMOJI_URL = re.compile(r"tg://emoji\?id=(\d+)$")


@dataclass(slots=True)
class _MdOpen:
    kind: str
    offset: int
    begin: int
    chars_at: int
    extra: JSONDict = field(default_factory=dict)


def _escapable(text: str, index: int) -> bool:
    return index < len(text) and 0 < ord(text[index]) <= 126


def _closes(top: _MdOpen, text: str, i: int) -> bool:
    c = text[i]
    nxt = text[i + 1] if i + 1 < len(text) else ""
    match top.kind:
        case "bold":
            return c == "*"
        case "italic":
            return c == "_" and nxt != "_"
        case "underline":
            return c == "_" and nxt == "_"
        case "strikethrough":
            return c == "~"
        case "spoiler":
            return c == "|" and nxt == "|"
        case "text_link" | "custom_emoji":
            return c == "]"
    return False


def _link_url(text: str, i: int) -> tuple[str | None, int]:
    """The ``(url)`` after a ``]`` at ``i - 1``; returns (url or None, index after it)."""
    if i >= len(text) or text[i] != "(":
        return None, i
    url: list[str] = []
    j = i + 1
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and _escapable(text, j + 1):
            url.append(text[j + 1])
            j += 2
        else:
            url.append(text[j])
            j += 1
    if j >= len(text):
        raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
    return "".join(url), j + 1


class _MarkdownV2Parser:
    """One pass over MarkdownV2 text, mirroring the rules of Telegram's parser."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.b = _Builder()
        self.stack: list[_MdOpen] = []
        self.quote_start: int | None = None
        self.quote_expandable = False

    def run(self) -> FormattedText:
        text, n = self.text, len(self.text)
        i = 0
        while i < n:
            top = self.stack[-1] if self.stack else None
            in_code = top is not None and top.kind in ("code", "pre")
            if not in_code and (i == 0 or text[i - 1] == "\n"):
                i = self._line_start(i)
                if i >= n:
                    break
            c = text[i]
            if c == "\\" and _escapable(text, i + 1):
                self.b.add(text[i + 1])
                i += 2
                continue
            if in_code:
                i = self._in_code(i)
                continue
            if c not in _MDV2_RESERVED:
                self.b.add(c)
                i += 1
                continue
            if (
                c == "|"
                and text.startswith("||", i)
                and self.quote_start is not None
                and (i + 2 == n or text[i + 2] == "\n")
                and not any(o.kind == "spoiler" for o in self.stack)
            ):
                self.quote_expandable = True
                i += 2
                continue
            if top is not None and _closes(top, text, i):
                i = self._close(top, i)
                continue
            i = self._open(i)
        if self.stack:
            top = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset "
                f"{_byte_offset(text, top.begin)}"
            )
        self._end_quote(self.b.pos16)
        return self.b.finish()

    def _line_start(self, i: int) -> int:
        text = self.text
        if text.startswith("**>", i):
            if self.quote_start is None:
                self.quote_start = self.b.pos16
                self.quote_expandable = True
            return i + 3
        if text.startswith(">", i):
            if self.quote_start is None:
                self.quote_start = self.b.pos16
                self.quote_expandable = False
            return i + 1
        if self.quote_start is not None and i > 0:
            # The newline that ended the quoted line is not part of the quote.
            self._end_quote(self.b.pos16 - 1)
        return i

    def _end_quote(self, end: int) -> None:
        if self.quote_start is None:
            return
        kind = "expandable_blockquote" if self.quote_expandable else "blockquote"
        length = end - self.quote_start
        if length > 0:
            self.b.entities.append({"type": kind, "offset": self.quote_start, "length": length})
        self.quote_start = None
        self.quote_expandable = False

    def _in_code(self, i: int) -> int:
        text = self.text
        top = self.stack[-1]
        if top.kind == "code" and text[i] == "`":
            self.stack.pop()
            self.b.entity("code", top.offset)
            return i + 1
        if top.kind == "pre" and text.startswith("```", i):
            self.stack.pop()
            self.b.entity("pre", top.offset, **top.extra)
            return i + 3
        self.b.add(text[i])
        return i + 1

    def _close(self, top: _MdOpen, i: int) -> int:
        text = self.text
        self.stack.pop()
        if top.kind in ("text_link", "custom_emoji"):
            url, after = _link_url(text, i + 1)
            if top.kind == "custom_emoji":
                match = _CUSTOM_EMOJI_URL.match(url or "")
                if not match:
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                self.b.entity("custom_emoji", top.offset, custom_emoji_id=match.group(1))
            else:
                if url is None:  # "[text]" without "(url)": the text is the URL
                    url = "".join(self.b.chars[top.chars_at :])
                if url:
                    self.b.entity("text_link", top.offset, url=url)
            return after
        self.b.entity(top.kind, top.offset)
        return i + (2 if top.kind in ("underline", "spoiler") else 1)

    def _open(self, i: int) -> int:
        text = self.text
        c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        offset = self.b.pos16
        if c == "_":
            kind, width = ("underline", 2) if nxt == "_" else ("italic", 1)
        elif c == "*":
            kind, width = "bold", 1
        elif c == "~":
            kind, width = "strikethrough", 1
        elif c == "|" and nxt == "|":
            kind, width = "spoiler", 2
        elif c == "[":
            kind, width = "text_link", 1
        elif c == "!" and nxt == "[":
            kind, width = "custom_emoji", 2
        elif c == "`":
            if text.startswith("```", i):
                return self._open_pre(i)
            kind, width = "code", 1
        else:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        self.stack.append(_MdOpen(kind, offset, i, len(self.b.chars)))
        return i + width

    def _open_pre(self, begin: int) -> int:
        text, n = self.text, len(self.text)
        i = begin + 3
        end = i
        while end < n and not text[end].isspace() and text[end] != "`":
            end += 1
        extra: JSONDict = {}
        if end != i and end < n and text[end] != "`":
            extra["language"] = text[i:end]
            i = end
        if i < n and text[i] in "\r\n":
            i += 2 if i + 1 < n and text[i + 1] in "\r\n" and text[i + 1] != text[i] else 1
        self.stack.append(_MdOpen("pre", self.b.pos16, begin, len(self.b.chars), extra))
        return i


def parse_markdown_v2(text: str) -> FormattedText:
    """Parse MarkdownV2, where every reserved character outside markup must be escaped."""
    return _MarkdownV2Parser(text).run()


# --------------------------------------------------------------------------------------------
# Legacy Markdown

_LEGACY_KINDS = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(text: str) -> FormattedText:
    """Parse legacy Markdown: non-nesting ``*bold*``, ``_italic_``, code, pre and links."""
    b = _Builder()
    i, n = 0, len(text)

    def unclosed(begin: int) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
        )

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            b.add(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            b.add(c)
            i += 1
            continue
        offset = b.pos16
        if c == "[":
            close = text.find("]", i + 1)
            if close < 0 or not text.startswith("(", close + 1):
                b.add(c)
                i += 1
                continue
            url_end = text.find(")", close + 2)
            if url_end < 0:
                raise unclosed(i)
            b.add(text[i + 1 : close])
            b.entity("text_link", offset, url=text[close + 2 : url_end])
            i = url_end + 1
        elif text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise unclosed(i)
            inner = text[i + 3 : end]
            extra: JSONDict = {}
            first, sep, rest = inner.partition("\n")
            if sep and first and not any(ch.isspace() for ch in first):
                extra["language"] = first
                inner = rest
            b.add(inner)
            b.entity("pre", offset, **extra)
            i = end + 3
        else:
            end = text.find(c, i + 1)
            if end < 0:
                raise unclosed(i)
            b.add(text[i + 1 : end])
            b.entity(_LEGACY_KINDS[c], offset)
            i = end + 1
    return b.finish()


# --------------------------------------------------------------------------------------------
# Entities Telegram detects in what users type

_COMMAND = re.compile(r"(?:^|(?<=\s))/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")


def detect_bot_commands(text: str) -> list[JSONDict]:
    """``bot_command`` entities, e.g. for ``/start payload`` or ``/help@zhiyuan_bot``."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _COMMAND.finditer(text)
    ]
