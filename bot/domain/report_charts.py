"""Charts as PNG with Chinese labels (matplotlib, Agg; no Telegram, no I/O but the font file).

matplotlib is imported on the first chart, not with the bot: importing it costs about half a
second, and start-up time matters (issue #14). Figures are built with
:class:`matplotlib.figure.Figure` and the Agg canvas directly rather than ``pyplot``, which keeps
global state and is not meant for servers; so charts can be drawn in a worker thread.

Chinese needs a CJK font: the first one found of :data:`CJK_FONTS` is registered with
matplotlib's font manager (Debian's ``fonts-wqy-microhei``, installed by ``.ci/run``, or
``fonts-noto-cjk``). Without one the chart is still drawn, with boxes for Chinese.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["CJK_FONTS", "ChartSpec", "cjk_font_name", "render_chart"]

log = logging.getLogger(__name__)

CJK_FONTS: Final = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)

_lock = threading.Lock()
_font_name: str | None = None
_font_checked = False

#: Colours that stay apart in print and for common colour blindness (Okabe–Ito).
COLOURS: Final = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart: one bar per label and series (grouped), or horizontal bars of one series."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    value_label: str
    horizontal: bool = False
    line: bool = False  # draw the series as lines with markers (months)

    def __post_init__(self) -> None:
        for _name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError("every series needs one value per label")


def cjk_font_name() -> str | None:
    """Register the first CJK font found (once) and return its family name."""
    global _font_name, _font_checked
    with _lock:
        if _font_checked:
            return _font_name
        _font_checked = True
        from matplotlib import font_manager

        for path in CJK_FONTS:
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
                _font_name = font_manager.FontProperties(fname=str(path)).get_name()
                break
        else:
            log.warning("no CJK font found (%s): Chinese in charts shows as boxes", CJK_FONTS)
        return _font_name


def render_chart(spec: ChartSpec) -> bytes:
    """The chart as PNG bytes (1200 × 720 px)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = cjk_font_name()
    rc: Any = {
        "font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
        "axes.unicode_minus": False,  # the CJK font has no U+2212
        "font.size": 12,
    }
    with matplotlib.rc_context(rc):
        figure = Figure(figsize=(10, 6), dpi=120)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        count = len(spec.series)
        positions = list(range(len(spec.labels)))
        if spec.line:
            for index, (name, values) in enumerate(spec.series):
                axes.plot(
                    positions, values, marker="o", color=COLOURS[index % 6], label=name, linewidth=2
                )
                for x, y in zip(positions, values, strict=True):
                    axes.annotate(
                        _number(y),
                        (x, y),
                        textcoords="offset points",
                        xytext=(0, 6),
                        ha="center",
                        fontsize=9,
                    )
            axes.set_xticks(positions, spec.labels, rotation=30, ha="right")
            axes.set_ylabel(spec.value_label)
            axes.set_ylim(bottom=0)
        elif spec.horizontal:
            height = 0.8 / max(count, 1)
            for index, (name, values) in enumerate(spec.series):
                offsets = [p + (index - (count - 1) / 2) * height for p in positions]
                bars = axes.barh(
                    offsets, values, height=height, color=COLOURS[index % 6], label=name
                )
                axes.bar_label(bars, labels=[_number(v) for v in values], padding=3, fontsize=9)
            axes.set_yticks(positions, spec.labels)
            axes.invert_yaxis()  # the largest first, at the top
            axes.set_xlabel(spec.value_label)
        else:
            width = 0.8 / max(count, 1)
            for index, (name, values) in enumerate(spec.series):
                offsets = [p + (index - (count - 1) / 2) * width for p in positions]
                bars = axes.bar(offsets, values, width=width, color=COLOURS[index % 6], label=name)
                axes.bar_label(bars, labels=[_number(v) for v in values], padding=2, fontsize=9)
            axes.set_xticks(positions, spec.labels, rotation=30, ha="right")
            axes.set_ylabel(spec.value_label)
        if not spec.labels:
            axes.text(0.5, 0.5, "—", ha="center", va="center", transform=axes.transAxes)
        axes.set_title(spec.title, fontsize=15, pad=12)
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="x" if spec.horizontal else "y", alpha=0.3)
        axes.set_axisbelow(True)
        if count > 1:
            axes.legend(frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.1f}"
