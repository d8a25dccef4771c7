"""A local, Telegram Bot API–compatible server with simulated users, for tests and benchmarks.

See :class:`LocalBotApi` (the server and its in-process API) and :class:`VirtualUser` (the
conversation-level test harness).

Webhooks work as on Telegram (details in :mod:`bot.localapi.webhook`). After ``setWebhook`` each
update the virtual users cause is POSTed as JSON to the URL, with the
``X-Telegram-Bot-Api-Secret-Token`` header when a ``secret_token`` was given; getUpdates then
answers 409. One chat's updates go strictly in order, the next only after the previous one got a
2xx answer; different chats go concurrently, up to ``max_connections`` (1-100, default 40)
requests at once. A non-2xx answer, a timeout or a refused connection is retried after a delay
doubling from ``LocalBotApi(webhook_retry_base=...)`` up to ``webhook_retry_max`` seconds (tests
set both low) while that chat's later updates wait; the last failure shows in getWebhookInfo
(``last_error_date``, ``last_error_message``) and ``pending_update_count`` counts what is not
delivered yet. ``deleteWebhook`` keeps undelivered updates for getUpdates unless
``drop_pending_updates``. Delivery is at least once: a request cut off by ``deleteWebhook`` or by
stopping the server is sent again later. Webhook requests are not subject to the flood limits,
which apply to what the bot sends. The harness reads the same in both modes (``send``,
``press``, ``next_reply``, ``wait_for_text``), since replies are Bot API calls either way.

Local deviations: ``http://`` (and any port) is accepted for loopback hosts (127.0.0.0/8, ::1,
``localhost``), which Telegram would refuse, so a bot on this machine can receive webhooks
without a certificate; other URLs must be ``https://`` on port 80, 88, 443 or 8443 as on
Telegram. ``ip_address`` is reported but not connected to, and a ``certificate`` only sets
``has_custom_certificate``. A callback query is ordered with the messages of the chat its button
is in (Telegram orders callback queries per user, so there a press may overtake a message); in
a private chat the two are the same order.
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
