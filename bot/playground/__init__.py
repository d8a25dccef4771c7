"""``zhiyuan playground``: the bot, the local Bot API server and a web chat in one process.

See :mod:`bot.playground.server`.
"""

from bot.playground.server import (
    Playground,
    PlaygroundError,
    check_bind_address,
    run_playground,
    start_playground,
)

__all__ = [
    "Playground",
    "PlaygroundError",
    "check_bind_address",
    "run_playground",
    "start_playground",
]
