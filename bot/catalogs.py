"""Keep the gettext catalogs in step with the code.

``python -m bot.catalogs update``
    extracts every message from ``bot/`` and ``handlers/`` into ``locales/messages.pot`` and
    merges it into each language's ``messages.po`` (new entries start empty; the English
    catalog is filled with the English message id, which is the source text).
``python -m bot.catalogs check``
    exits 1, listing each problem, when a message in the code is missing from a catalog, is
    untranslated or fuzzy, or its ``{placeholders}`` differ from the message id's — or when the
    template is stale, or a gettext call sits inside an f-string. CI runs it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.domain.users import Language
from bot.i18n import BABEL_LOCALES, DOMAIN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "handlers")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
# Babel's Python extractor reads tokens, and on Python 3.11 an f-string is one string token: a
# gettext call inside it is never extracted, so its text silently stays English.
TRANSLATING_CALLS = frozenset({*KEYWORDS, "npgettext"})


def _template_path(root: Path) -> Path:
    return root / "locales" / f"{DOMAIN}.pot"


def _po_path(root: Path, language: Language) -> Path:
    return root / "locales" / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract(root: Path = PROJECT_ROOT) -> Catalog:
    template = Catalog(project="zhiyuan", domain=DOMAIN, fuzzy=False)
    for directory in SOURCE_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            root / directory,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
        ):
            template.add(
                message,
                None,
                [(f"{directory}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def _read(path: Path, language: Language | None = None) -> Catalog:
    with path.open("rb") as handle:
        locale = BABEL_LOCALES[language] if language else None
        return read_po(handle, locale=locale, domain=DOMAIN)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, omit_header=False)


def update(root: Path = PROJECT_ROOT) -> None:
    template = extract(root)
    # A fixed creation date keeps the template byte-stable between runs.
    template.creation_date = datetime(2026, 1, 1, tzinfo=UTC)
    _write(_template_path(root), template)
    for language in Language:
        path = _po_path(root, language)
        if path.exists():
            catalog = _read(path, language)
        else:
            catalog = Catalog(locale=BABEL_LOCALES[language], domain=DOMAIN, project="zhiyuan")
        catalog.update(template, no_fuzzy_matching=True)
        # Drop messages the code no longer uses, instead of keeping them as obsolete noise.
        catalog.obsolete.clear()
        if language is Language.EN:
            for message in catalog:
                if message.id and not _translated(message):
                    message.string = message.id
        catalog.revision_date = template.creation_date
        _write(path, catalog)


def _translated(message: Message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _message_key(message: Message) -> tuple[str, str | None]:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return (msgid, message.context)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def calls_in_fstrings(root: Path = PROJECT_ROOT) -> list[str]:
    """Each gettext-family call written inside an f-string, as ``path:line: call``.

    Such a call is invisible to extraction (see ``TRANSLATING_CALLS``); hoist it out, or better
    make the whole line one message with ``{placeholders}`` so translators see the sentence.
    """
    found: list[str] = []
    for directory in SOURCE_DIRS:
        for path in sorted((root / directory).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            seen: set[tuple[int, int]] = set()
            for node in ast.walk(tree):
                if not isinstance(node, ast.JoinedStr):
                    continue
                for inner in ast.walk(node):
                    where = (getattr(inner, "lineno", 0), getattr(inner, "col_offset", 0))
                    if (
                        isinstance(inner, ast.Call)
                        and _called_name(inner) in TRANSLATING_CALLS
                        and where not in seen
                    ):
                        seen.add(where)
                        relative = path.relative_to(root).as_posix()
                        found.append(
                            f"{relative}:{inner.lineno}: {ast.unparse(inner)} is inside an "
                            "f-string, where extraction cannot see it: make the line one "
                            "message with {placeholders}"
                        )
    return found


def problems(root: Path = PROJECT_ROOT) -> list[str]:
    found: list[str] = calls_in_fstrings(root)
    template = extract(root)
    wanted = {_message_key(message) for message in template if message.id}
    template_path = _template_path(root)
    if not template_path.exists():
        return [f"{template_path} is missing: run `python -m bot.catalogs update`"]
    stored = {_message_key(message) for message in _read(template_path) if message.id}
    if stored != wanted:
        found.append(f"{template_path.name} is stale: run `python -m bot.catalogs update`")
    for language in Language:
        path = _po_path(root, language)
        if not path.exists():
            found.append(f"{path} is missing")
            continue
        catalog = _read(path, language)
        present = {_message_key(message): message for message in catalog if message.id}
        for key in sorted(wanted, key=lambda item: (item[0], item[1] or "")):
            message = present.get(key)
            label = f"[{language.value}] {key[0]!r}"
            if message is None:
                found.append(f"{label} is missing from the catalog")
            elif message.fuzzy:
                found.append(f"{label} is fuzzy (review it and drop the fuzzy flag)")
            elif not _translated(message):
                found.append(f"{label} is untranslated")
            else:
                found.extend(f"{label}: {issue}" for issue in _placeholder_issues(message))
    return found


def _placeholder_issues(message: Message) -> Iterable[str]:
    ids: tuple[str, ...] = (
        tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)
    )
    raw = message.string if isinstance(message.string, tuple | list) else (message.string,)
    strings = tuple(text or "" for text in raw)
    expected = set().union(*(_placeholders(text) for text in ids))
    for text in strings:
        if _placeholders(text) - expected:
            yield f"translation uses placeholders {sorted(_placeholders(text) - expected)}"
        # A singular form may legitimately omit the count ("one item"), the plural may not.
        missing = _placeholders(ids[-1]) - _placeholders(text)
        if len(strings) == 1 and missing:
            yield f"translation drops placeholders {sorted(missing)}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        update()
        return 0
    if args == ["check"]:
        issues = problems()
        for issue in issues:
            print(issue, file=sys.stderr)
        if issues:
            print(f"{len(issues)} catalog problem(s)", file=sys.stderr)
            return 1
        print("catalogs complete")
        return 0
    print("usage: python -m bot.catalogs update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
