"""The ``zhiyuan`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhiyuan",
        description="Zhiyuan (志愿): a Telegram bot for volunteer recruitment and matching.",
    )
    parser.add_argument("--version", action="version", version=f"zhiyuan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run the bot (long polling, or --webhook) until Ctrl+C or SIGTERM"
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on WEBHOOK_HOST:WEBHOOK_PORT (WEBHOOK_URL, WEBHOOK_SECRET); "
        "several instances may run on one PostgreSQL database",
    )
    commands.add_parser("migrate", help="apply database migrations and print the schema version")
    demo = commands.add_parser(
        "demo-data", help="fill a database with demo organizations, activities and volunteers"
    )
    demo.add_argument("--database", type=Path, required=True, help="SQLite file (created)")
    playground = commands.add_parser(
        "playground",
        help="try the bot in a browser: local Bot API server, the bot and a web chat, no token",
    )
    playground.add_argument("--host", default="127.0.0.1", help="address (default loopback)")
    playground.add_argument("--port", type=int, default=8080, help="web page port (8080)")
    playground.add_argument(
        "--database", type=Path, default=None, help="keep the demo database in this file"
    )
    playground.add_argument(
        "--allow-public",
        action="store_true",
        help="allow a non-loopback --host (anyone who can reach it can use every persona)",
    )
    playground.add_argument(
        "--verbose", action="store_true", help="log what the bot does (INFO), not only warnings"
    )
    copy = commands.add_parser(
        "copy-to-postgres",
        help="copy an SQLite deployment into a PostgreSQL database and verify it table by table",
    )
    copy.add_argument(
        "--from", dest="source", type=Path, required=True, help="the SQLite file (read only)"
    )
    copy.add_argument(
        "--to",
        dest="target",
        default=None,
        help="postgresql://user:password@host/database (default: DATABASE_URL)",
    )
    copy.add_argument(
        "--replace",
        action="store_true",
        help="delete the data the target already holds first (otherwise such a target is refused)",
    )
    cluster = commands.add_parser(
        "demo-cluster",
        help="three instances in webhook mode on one PostgreSQL (DATABASE_URL, or a throwaway "
        "cluster of Debian's postgresql) behind the local Bot API server, with the playground",
    )
    cluster.add_argument("--host", default="127.0.0.1", help="address of the page (loopback)")
    cluster.add_argument("--port", type=int, default=8080, help="web page port (8080)")
    cluster.add_argument(
        "--database-url",
        default=None,
        help="postgresql://… of a database for the demo (filled with demo data when empty); "
        "default: a throwaway cluster. DATABASE_URL is not read: a demo must never consume "
        "a real deployment's notifications",
    )
    return parser


def playground_logging(verbose: bool) -> None:
    """The playground's console: the address to open and warnings, unless ``--verbose``.

    Loading the demo data alone logs some 170 INFO lines (each sign-up, the scheduler's jobs)
    that buried the one line a person needs. The playground's own logger keeps INFO, so its
    few lifecycle lines ("playground stopped") still show.
    """
    setup_logging("INFO" if verbose else "WARNING", secrets=[])
    logging.getLogger("bot.playground").setLevel(logging.DEBUG if verbose else logging.INFO)


def _settings() -> Settings:
    from bot.config import EXIT_CONFIG_ERROR, ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as error:
        print(f"zhiyuan: configuration error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


async def _migrate(settings: Settings) -> int:
    from storage.backends import open_database
    from storage.migrate import migrate

    db = await open_database(settings.database_target)
    try:
        report = await migrate(db)
    finally:
        await db.close()
    applied = ", ".join(str(version) for version in report.applied) or "none"
    print(f"schema version {report.version} (applied: {applied})")
    return 0


async def _demo_data(database: Path) -> int:
    from bot.clock import system_clock
    from bot.demo import load_demo_data
    from storage.backends import open_database
    from storage.migrate import migrate

    db = await open_database(database)
    try:
        await migrate(db)
        loaded = await load_demo_data(db, system_clock())
    finally:
        await db.close()
    print(
        f"demo data written to {database}"
        if loaded
        else f"{database} already holds activities; left unchanged"
    )
    return 0


def _copy_to_postgres(source: Path, target: str | None, *, replace: bool) -> int:
    """Exit status 0 when every table matched, 1 on a mismatch or a failed copy, 2 when the
    copy was refused before writing anything (see storage.to_postgres)."""
    from storage.db import is_postgres_url
    from storage.to_postgres import CopyRefused, copy_to_postgres, format_report

    if target is None:
        settings = _settings()
        if settings.database_url is None:
            print("zhiyuan: copy-to-postgres: give --to or set DATABASE_URL", file=sys.stderr)
            return 2
        target = settings.database_url.get_secret_value()
    if not is_postgres_url(target):
        print("zhiyuan: copy-to-postgres: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    setup_logging("WARNING", secrets=[target])

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        report = asyncio.run(copy_to_postgres(source, target, replace=replace, progress=progress))
    except CopyRefused as refused:
        print(f"zhiyuan: copy-to-postgres: {refused}", file=sys.stderr)
        return 2
    except Exception as error:  # psycopg or sqlite3: the copy was rolled back
        print(
            f"zhiyuan: copy-to-postgres failed (a copy that did not finish is rolled back): "
            f"{type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    print(format_report(report))
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command == "demo-data":
        setup_logging("WARNING", secrets=[])
        return asyncio.run(_demo_data(args.database))
    if args.command == "playground":
        # No settings from the environment: the playground runs its own server and token.
        playground_logging(args.verbose)
        from bot.playground.server import run_playground

        return asyncio.run(
            run_playground(
                host=args.host,
                port=args.port,
                database=args.database,
                allow_public=args.allow_public,
            )
        )
    if args.command == "demo-cluster":
        playground_logging(verbose=False)
        from bot.localcluster import run_demo_cluster

        return asyncio.run(
            run_demo_cluster(host=args.host, port=args.port, database_url=args.database_url)
        )
    if args.command == "copy-to-postgres":
        return _copy_to_postgres(args.source, args.target, replace=args.replace)
    if args.command == "run":
        # Off from here, before the settings' pydantic is imported, while the bot imports and
        # starts: a collection every 700 allocations walked the long-lived objects of every
        # module being built (≈ 25 ms of the start). run_until_signalled freezes what start-up
        # built and turns it on again (#14).
        gc.disable()
    from bot.config import EXIT_CONFIG_ERROR, ConfigError

    settings = _settings()
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    database_url = settings.database_url.get_secret_value() if settings.database_url else ""
    setup_logging(settings.log_level, secrets=[token, database_url])
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "run":
        try:
            settings.require_token()
        except ConfigError as error:
            print(f"zhiyuan: configuration error: {error}", file=sys.stderr)
            return EXIT_CONFIG_ERROR
        from telegram.error import InvalidToken, NetworkError

        from bot.runtime import run_until_signalled

        try:
            asyncio.run(run_until_signalled(settings, webhook=args.webhook))
        except InvalidToken:
            print(
                "zhiyuan: the Bot API server rejected BOT_TOKEN (check the token from @BotFather)",
                file=sys.stderr,
            )
            return EXIT_CONFIG_ERROR
        except NetworkError as error:
            print(
                f"zhiyuan: cannot reach BOT_API_URL {settings.bot_api_url}: {error}",
                file=sys.stderr,
            )
            return 1
        return 0
    return 2  # argparse rejects unknown commands before this


if __name__ == "__main__":
    raise SystemExit(main())
