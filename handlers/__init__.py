"""Telegram handlers: parse the update, call a service, render the answer. No SQL, no rules."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.context import Renderers
from bot.domain.notifications import NotificationKind
from handlers import (
    activity_edit,
    activity_notices,
    admin,
    attendance,
    awards,
    broadcast,
    browse,
    campaigns,
    cancel_activity,
    certificates,
    chat_member,
    chat_types,
    checkin,
    checkin_display,
    co_organizers,
    corrections,
    duplicate_activity,
    emergency_answers,
    emergency_coordination,
    emergency_pool,
    errors,
    evaluations,
    honours,
    hours_review,
    key_dates,
    manage,
    message_participants,
    middleware,
    mobilize,
    my,
    my_hours,
    my_requests,
    organize,
    plain_text,
    profile,
    publish_form,
    ratings,
    recruit,
    registration,
    reminders,
    report_figures,
    reports,
    request_dispatch,
    request_dispatchers,
    request_order,
    request_team,
    rewards,
    roster,
    signup,
    stars,
    stars_admin,
    start,
    stats,
    verify,
    workdays_admin,
)
from handlers.flows import Flow, FlowDispatcher


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    middleware.register(application)
    registration.register(application)
    profile.register(application)
    start.register(application)
    # Feature modules: commands and button families. Typed text, pins and contacts go to the
    # dispatcher below (the flow that owns the user's input, handlers.flows), which therefore
    # comes after every handler that takes messages itself and before the fallbacks.
    co_organizers.register(application)
    organize.register(application)
    admin.register(application)
    publish_form.register(application)
    activity_edit.register(application)
    manage.register(application)
    roster.register(application)
    cancel_activity.register(application)
    message_participants.register(application)
    duplicate_activity.register(application)
    key_dates.register(application)
    campaigns.register(application)
    broadcast.register(application)
    browse.register(application)
    signup.register(application)
    my.register(application)
    recruit.register(application)
    reminders.register(application)
    chat_member.register(application)
    checkin_display.register(application)
    checkin.register(application)
    attendance.register(application)
    hours_review.register(application)
    my_hours.register(application)
    corrections.register(application)
    workdays_admin.register(application)
    ratings.register(application)
    evaluations.register(application)
    awards.register(application)
    request_order.register(application)
    my_requests.register(application)
    request_dispatch.register(application)
    request_dispatchers.register(application)
    request_team.register(application)
    certificates.register(application)
    verify.register(application)
    stars.register(application)
    stars_admin.register(application)
    rewards.register(application)
    honours.register(application)
    report_figures.register(application)
    stats.register(application)
    reports.register(application)
    emergency_pool.register(application)
    mobilize.register(application)
    emergency_coordination.register(application)
    emergency_answers.register(application)
    typed_input_dispatcher().register(application)
    start.register_fallbacks(application)
    errors.register(application)
    chat_types.register(application)


#: Handler modules that render notifications, each with its ``RENDERERS`` table.
_RENDERING_MODULES = (
    activity_notices,
    admin,
    broadcast,
    campaigns,
    cancel_activity,
    corrections,
    message_participants,
    my_hours,
    organize,
    recruit,
    reminders,
    signup,
    workdays_admin,
    ratings,
    awards,
    my_requests,
    request_dispatch,
    request_team,
    certificates,
    stars,
    stars_admin,
    rewards,
    report_figures,
    reports,
    emergency_answers,
)


def notification_renderers() -> Renderers:
    """Every notification kind's renderer, from the tables of the handler modules.

    A kind claimed by two modules is a wiring mistake and fails at start-up; a kind with no
    renderer at all fails ``tests/unit/test_wiring.py`` (and would be marked failed when sent).
    """
    table: dict[NotificationKind, Any] = {}
    for module in _RENDERING_MODULES:
        for kind, renderer in module.RENDERERS.items():
            if kind in table:
                raise RuntimeError(f"two renderers for {kind}: {module.__name__} and another")
            table[kind] = renderer
    return table


#: Handler modules whose flows read typed input, each with its ``FLOWS`` list.
_FLOW_MODULES: tuple[Any, ...] = (
    admin,
    broadcast,
    browse,
    cancel_activity,
    duplicate_activity,
    key_dates,
    message_participants,
    organize,
    publish_form,
    activity_edit,
    registration,
    signup,
    checkin,
    attendance,
    hours_review,
    my_hours,
    corrections,
    workdays_admin,
    ratings,
    evaluations,
    awards,
    request_order,
    my_requests,
    request_dispatch,
    request_dispatchers,
    request_team,
    certificates,
    verify,
    stars_admin,
    rewards,
    report_figures,
    reports,
    roster,
    emergency_pool,
    mobilize,
    emergency_coordination,
)


def typed_input_dispatcher() -> FlowDispatcher:
    """Routes typed text, pins and contacts to the flow that owns them (``handlers.flows``)."""
    flows: list[Flow] = [flow for module in _FLOW_MODULES for flow in module.FLOWS]
    return FlowDispatcher(
        flows,
        default_text=plain_text.on_plain_text,
        default_location=browse.on_location,
        default_contact=start.unknown_text,
        nothing_to_cancel=start.cancel,
    )
