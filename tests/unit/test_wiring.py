"""The composition root's promises: every notification kind can be rendered."""

from __future__ import annotations

from bot.domain.notifications import NotificationKind
from handlers import notification_renderers


def test_every_notification_kind_has_exactly_one_renderer() -> None:
    renderers = notification_renderers()
    missing = [kind for kind in NotificationKind if kind not in renderers]
    assert missing == []
    assert all(callable(renderer) for renderer in renderers.values())


def test_no_import_cycles_between_modules() -> None:
    """No module imports its way back to itself (lazy and type-checking imports included):
    every circle found is listed with its members."""
    import grimp

    graph = grimp.build_graph("bot", "handlers", "storage")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert circles == []


def test_start_up_does_not_import_the_libraries_of_files() -> None:
    """Spreadsheets, PDFs, QR codes, calendar files and charts are made now and then, and the
    webhook and health servers (aiohttp) serve only some instances; their libraries (≈ 0.45 s
    together) load when first needed, not when a polling bot starts (#14). So do phone numbers'
    rules (``phonenumbers``, ≈ 15 ms), read when a number is first typed, shown or masked."""
    import subprocess
    import sys

    heavy = ("openpyxl", "fpdf", "segno", "icalendar", "matplotlib", "aiohttp", "phonenumbers")
    probe = (
        "import sys, bot.runtime, bot.cli; "
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []
