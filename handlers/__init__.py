"""Telegram handlers: parse the update, call a service, render the answer. No SQL, no rules."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers import (
    admin,
    broadcast,
    browse,
    campaigns,
    chat_member,
    errors,
    manage,
    middleware,
    my,
    organize,
    profile,
    publish,
    recruit,
    registration,
    reminders,
    signup,
    start,
)
from handlers.conversation import bind_conversations


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    middleware.register(application)
    registration.register(application)
    profile.register(application)
    start.register(application)
    # Feature modules register here, before the fallbacks. Conversations that read typed text
    # or map pins come before the service menu (whose location handler would take a pin sent
    # to the /new form); only the conversation the user entered last reads them
    # (handlers.conversation).
    organize.register(application)
    admin.register(application)
    publish.register(application)
    manage.register(application)
    campaigns.register(application)
    broadcast.register(application)
    browse.register(application)
    signup.register(application)
    my.register(application)
    recruit.register(application)
    reminders.register(application)
    chat_member.register(application)
    start.register_fallbacks(application)
    errors.register(application)
    bind_conversations(application)
