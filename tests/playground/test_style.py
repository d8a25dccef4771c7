"""The playground's colours, read from its stylesheet: text on inline buttons meets WCAG AA.

The buttons were white on a translucent grey over the chat background, 1.7:1. WCAG 2.x asks
4.5:1 for text of this size. The colours are taken from ``style.css`` itself (custom properties
resolved, translucent colours laid over the background they sit on), so a later edit of the
palette is checked too.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

CSS = (files("bot.playground") / "static" / "style.css").read_text(encoding="utf-8")
RGBA = tuple[float, float, float, float]


def _without_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def _rules(selector: str) -> dict[str, str]:
    """The declarations of the rule whose selector is exactly ``selector`` (first one)."""
    for found in re.finditer(r"([^{}]+)\{([^{}]*)\}", _without_comments(CSS)):
        if found.group(1).strip() == selector:
            pairs = (item.split(":", 1) for item in found.group(2).split(";") if ":" in item)
            return {name.strip(): value.strip() for name, value in pairs}
    raise AssertionError(f"no rule {selector!r} in style.css")


VARIABLES = {name: value for name, value in _rules(":root").items() if name.startswith("--")}


def _colour(value: str) -> RGBA:
    value = value.strip()
    var = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if var:
        return _colour(VARIABLES[var.group(1)])
    if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16), 1.0)
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        return (int(value[1] * 2, 16), int(value[2] * 2, 16), int(value[3] * 2, 16), 1.0)
    functional = re.fullmatch(r"rgba?\(([^)]*)\)", value)
    if functional:
        parts = [float(part) for part in functional.group(1).split(",")]
        return (parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 1.0)
    raise AssertionError(f"cannot read the colour {value!r}")


def _over(top: RGBA, below: RGBA) -> RGBA:
    alpha = top[3]
    return (
        top[0] * alpha + below[0] * (1 - alpha),
        top[1] * alpha + below[1] * (1 - alpha),
        top[2] * alpha + below[2] * (1 - alpha),
        1.0,
    )


def _luminance(colour: RGBA) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(text: RGBA, background: RGBA) -> float:
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_matches_wcag() -> None:
    assert contrast(_colour("#000"), _colour("#fff")) == pytest.approx(21.0)
    assert contrast(_colour("#767676"), _colour("#ffffff")) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("selector", [".kb-button", ".kb-button:hover:not(:disabled)"])
def test_inline_button_text_meets_wcag_aa(selector: str) -> None:
    # Inline keyboards sit on the chat background, under the bubble they belong to.
    chat = _colour(VARIABLES["--bg"])
    button = _rules(selector)
    base = _rules(".kb-button")
    background = _over(_colour(button.get("background", base["background"])), chat)
    text = _over(_colour(button.get("color", base["color"])), background)
    assert contrast(text, background) >= 4.5
