"""Telegram handlers: parse the update, call a service, render the answer. No SQL, no rules."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers import browse, errors, middleware, my, profile, registration, signup, start


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    middleware.register(application)
    registration.register(application)
    profile.register(application)
    start.register(application)
    # Feature modules register here, before the fallbacks.
    browse.register(application)
    signup.register(application)
    my.register(application)
    start.register_fallbacks(application)
    errors.register(application)
