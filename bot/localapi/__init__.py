"""A local, Telegram Bot API–compatible server with simulated users, for tests and benchmarks.

See :class:`LocalBotApi` (the server and its in-process API) and :class:`VirtualUser` (the
conversation-level test harness).
"""

from bot.localapi.errors import ApiError, LocalApiUsageError
from bot.localapi.flood import FloodLimits
from bot.localapi.harness import VirtualUser
from bot.localapi.models import (
    BotInfo,
    CallbackAnswer,
    CallbackQueryRecord,
    ChatRecord,
    Event,
    EventKind,
    MessageVersion,
    ServerStats,
    StoredFile,
    StoredMessage,
    VirtualUserInfo,
)
from bot.localapi.server import LocalBotApi
from bot.localapi.state import ApiState, BotRef, BotState

__all__ = [
    "ApiError",
    "ApiState",
    "BotInfo",
    "BotRef",
    "BotState",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "ChatRecord",
    "Event",
    "EventKind",
    "FloodLimits",
    "LocalApiUsageError",
    "LocalBotApi",
    "MessageVersion",
    "ServerStats",
    "StoredFile",
    "StoredMessage",
    "VirtualUser",
    "VirtualUserInfo",
]
