"""The ``zhiyuan`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import __version__
from bot.config import EXIT_CONFIG_ERROR, ConfigError, Settings, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhiyuan",
        description="Zhiyuan (志愿): a Telegram bot for volunteer recruitment and matching.",
    )
    parser.add_argument("--version", action="version", version=f"zhiyuan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling) until Ctrl+C or SIGTERM")
    commands.add_parser("migrate", help="apply database migrations and print the schema version")
    return parser


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        print(f"zhiyuan: configuration error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


async def _migrate(settings: Settings) -> int:
    from storage.db import Database
    from storage.migrate import migrate

    db = await Database.open(settings.database_path)
    try:
        report = await migrate(db)
    finally:
        await db.close()
    applied = ", ".join(str(version) for version in report.applied) or "none"
    print(f"schema version {report.version} (applied: {applied})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    settings = _settings()
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    setup_logging(settings.log_level, secrets=[token])
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
            asyncio.run(run_until_signalled(settings))
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
