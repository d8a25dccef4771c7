"""Telegram handlers: parse the update, call a service, render the answer. No SQL, no rules.

:data:`MODULES` lists the feature modules in the order their handlers stand, with what each
claims (commands and button data), its flows and the notifications it renders. A module is
imported when an update, input, notification or job first needs it (:mod:`handlers.lazy`);
``tests/unit/test_lazy_modules.py`` checks the table against what the modules register.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.domain.notifications import NotificationKind as N
from handlers import chat_member, chat_types, errors, middleware, start
from handlers.flows import FlowDispatcher
from handlers.lazy import (
    DeferredFlows,
    DeferredHandlers,
    DeferredRenderers,
    LazyModule,
    deferred,
    handler_module,
)

# Typed text, pins and contacts go to the dispatcher (the flow that owns the user's input,
# handlers.flows), which stands after every handler that takes messages itself and before the
# fallbacks. Feature modules take commands and button presses only.
MODULES: tuple[LazyModule, ...] = (
    LazyModule(
        "registration",
        "/register /profile menu:profile reg reg.for prof.edit su",
        flows=("registration",),
    ),
    LazyModule("profile", "prof.*"),
    LazyModule("co_organizers", "org.mem org.inv org.rm org.rmy org.join"),
    LazyModule(
        "organize",
        "/organize menu:organize org.*",
        flows=("organize",),
        renders=(N.ORG_DECISION,),
    ),
    LazyModule("admin", "/admin adm.*", flows=("admin_input",), renders=(N.ORG_APPLICATION,)),
    LazyModule("publish_form", "/new pub pub.*", flows=("publish",)),
    LazyModule(
        "activity_edit",
        "ed ed.f ed.v ed.tm ed.t ed.d ed.mv ed.ok ed.no",
        flows=("activity_edit",),
    ),
    LazyModule("manage", "mg.list mg.card mg.signups mg"),
    LazyModule("roster", "mg.roster mg.export mg.reveal mg", flows=("roster_reveal",)),
    LazyModule(
        "cancel_activity",
        "mg.cx mg.cx.preset mg.cx.type mg.cx.yes mg",
        flows=("manage_cancel",),
        renders=(N.ACTIVITY_CANCELLED,),
    ),
    LazyModule(
        "message_participants",
        "mg.msg mg.msg.to mg.msg.send mg",
        flows=("manage_message",),
        renders=(N.ORGANIZER_MESSAGE,),
    ),
    LazyModule("duplicate_activity", "mg.dup mg", flows=("manage_duplicate",)),
    LazyModule("key_dates", "kd.*", flows=("key_date",)),
    LazyModule(
        "campaigns",
        "cp",
        renders=(N.KEY_DATE_HEADS_UP, N.CAMPAIGN, N.KEY_DATE_GREETING, N.DIGEST),
    ),
    LazyModule("broadcast", "/broadcast bc.*", flows=("broadcast",), renders=(N.BROADCAST,)),
    LazyModule(
        "browse",
        "/menu /search menu:browse br.view act.card br act",
        flows=("search", "near_me"),
    ),
    LazyModule(
        "signup",
        "su su.join su.wait su.promise su.resume su.cx su.cx.reason su.cx.type su.acc su.dec"
        " su.ics su.map",
        flows=("cancel_signup",),
        renders=(N.WAITLIST_OFFER, N.OFFER_EXPIRED),
    ),
    LazyModule("my", "/my menu:my"),
    LazyModule(
        "recruit",
        "rc rc.list rc.ask rc.go inv inv.no su su.join su.wait",
        # Group 5 (recruit.AFTER_SIGNUP_GROUP): after a sign-up's own handler has run.
        groups=(0, 5),
        renders=(N.INVITATION, N.UNDERSTAFFED),
    ),
    LazyModule("reminders", "rm rm.answer", renders=(N.REMINDER,)),
    LazyModule("checkin_display", "ck.open ck.close ck.out ck.outat"),
    # Entries come from /start (links) and the default text handler (typed codes).
    LazyModule("checkin", "", groups=(), flows=("checkin_location",)),
    LazyModule(
        "attendance",
        "at.list at.p at.m at.why at.walk at.log",
        flows=("attendance_walk_in",),
    ),
    LazyModule(
        "hours_review",
        "hr.rev hr.ok hr.ed hr.ext",
        flows=("hours_edit", "hours_extend"),
    ),
    LazyModule(
        "my_hours",
        "/hours hrs.p hrs.r hrs.fix",
        flows=("record_correction",),
        renders=(N.HOURS_RECORDED, N.CORRECTION_DECIDED),
    ),
    LazyModule(
        "corrections",
        "cor.ok cor.no",
        flows=("correction_reject",),
        renders=(N.CORRECTION_REQUESTED,),
    ),
    LazyModule(
        "workdays_admin",
        "/workdays wd.home wd.year wd.type wd.rm wd.late",
        flows=("workdays_day",),
        renders=(N.RECORDING_DUE, N.WORKDAYS_MISSING),
    ),
    LazyModule(
        "ratings",
        "rate.star rate.skip",
        flows=("activity_rating",),
        renders=(N.RATING_REQUEST, N.LOW_ACTIVITY_RATING),
    ),
    LazyModule(
        "evaluations",
        "eval.start eval.list eval.pick eval.rate eval.skip",
        flows=("service_evaluation",),
    ),
    LazyModule(
        "awards",
        "/award award.start award.list award.pick award.find award.issuer award.save award.cancel",
        flows=("award",),
        renders=(N.AWARD_GRANTED,),
    ),
    LazyModule(
        "request_order",
        "/request menu:request rq.ch rq.ed rq.send rq.quit",
        flows=("request_order",),
    ),
    LazyModule(
        "my_requests",
        "/requests menu:requests mr.list mr.card mr.cancel mr.cyes mr.star mr.skip",
        flows=("request_rating",),
        renders=(N.REQUEST_STATUS,),
    ),
    LazyModule(
        "request_dispatch",
        "/dispatch dp.queue dp.card dp.send dp.rej dp.stats",
        flows=("request_reject",),
        renders=(N.REQUEST_NEW, N.REQUEST_RETURNED, N.REQUEST_ESCALATED, N.REQUEST_LOW_RATING),
    ),
    LazyModule(
        "request_dispatchers",
        "/dispatchers da.home da.area da.rm da.add",
        flows=("dispatcher_appoint",),
    ),
    LazyModule(
        "request_team",
        "tm.list tm.card tm.acc tm.dec tm.help tm.ask tm.act tm.start tm.done tm.hours hv.ans",
        flows=("request_decline", "request_report"),
        renders=(
            N.REQUEST_ASSIGNED,
            N.REQUEST_ACCEPT_REMINDER,
            N.REQUEST_HELP_ASKED,
            N.REQUEST_HELPER_ANSWER,
            N.REQUEST_WITHDRAWN,
            N.REQUEST_HOURS,
        ),
    ),
    LazyModule(
        "certificates",
        "/certificate cert.menu cert.ask cert.get cert.ok cert.no",
        flows=("certificate_period", "certificate_reject"),
        renders=(N.CERTIFICATE_REQUESTED, N.CERTIFICATE_DECIDED, N.CERTIFICATE_REVOKED),
    ),
    LazyModule(
        "verify",
        "/verify /certificates cert.adm cert.as cert.rv",
        flows=("certificate_revoke",),
    ),
    LazyModule(
        "stars",
        "/stars st.show st.apply",
        renders=(N.STAR_REACHED, N.STAR_ELIGIBLE, N.STAR_GRANTED, N.STAR_OBJECTED),
    ),
    LazyModule(
        "stars_admin",
        "/starlevels sa.home sa.preset sa.type sa.ask sa.obj",
        flows=("star_thresholds",),
        renders=(N.STAR_PUBLICITY,),
    ),
    LazyModule(
        "rewards",
        "/points /rewards rw.mine rw.list rw.ask rw.buy rw.cancel rw.org rw.new rw.off rw.wait"
        " rw.hand rw.back rw.tiers rw.tier",
        flows=("reward_new",),
        renders=(N.REWARD_REDEEMED,),
    ),
    LazyModule("honours", "/honours hn.home hn.area hn.org hn.me"),
    LazyModule(
        "report_figures",
        "fig fig.pp fig.pk fig.fd fig.org fig.md fig.mk fig.mdel fig.ok fig.nr",
        flows=("figures",),
        renders=(N.REPORT_FIGURES_DUE, N.REPORT_FIGURES_MISSING),
    ),
    LazyModule("stats", "/stats st st.areas st.t st.c"),
    LazyModule(
        "reports",
        "/periods rp.home rp.ed rp.on",
        flows=("report_period",),
        renders=(N.REPORT_WEEKLY,),
    ),
    LazyModule(
        "emergency_pool",
        "em.pool em.oncall em.skill em.areas em.area em.when em.km em.pin em.pinx",
        flows=("emergency_pool",),
    ),
    LazyModule(
        "mobilize",
        "/mobilize em.menu em.new em.draft em.title em.place em.rally em.drill em.need em.start"
        " em.orgs em.grantq em.grant em.revoke",
        flows=("mobilize", "emergency_grant"),
    ),
    LazyModule(
        "emergency_coordination",
        "em.show em.who em.upd em.downq em.down",
        flows=("emergency_update",),
    ),
    LazyModule(
        "emergency_answers",
        "em.ans",
        renders=(N.EMERGENCY_ALERT, N.EMERGENCY_UPDATE, N.EMERGENCY_STAND_DOWN),
    ),
    # Renders only: the notices to sign-ups when an activity changes.
    LazyModule(
        "activity_notices", "", groups=(), renders=(N.ACTIVITY_CHANGED, N.MOVED_TO_WAITLIST)
    ),
)


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler, in its place; the feature modules as :class:`DeferredHandlers`."""
    middleware.register(application)
    start.register(application)
    for module in MODULES:
        for group in module.groups:
            application.add_handler(DeferredHandlers(module, group), group)
    chat_member.register(application)
    typed_input_dispatcher().register(application)
    start.register_fallbacks(application)
    errors.register(application)
    chat_types.register(application)


def notification_renderers() -> DeferredRenderers:
    """Every notification kind's renderer, each module imported when first needed.

    A kind claimed by two modules is a wiring mistake and fails at start-up; a kind with no
    renderer at all fails ``tests/unit/test_wiring.py`` (and would be marked failed when sent).
    """
    return DeferredRenderers(MODULES)


def typed_input_dispatcher() -> FlowDispatcher:
    """Routes typed text, pins and contacts to the flow that owns them (``handlers.flows``)."""
    return FlowDispatcher(
        DeferredFlows(MODULES),
        default_text=deferred("plain_text", "on_plain_text"),
        default_location=deferred("browse", "on_location"),
        default_contact=start.unknown_text,
        nothing_to_cancel=start.cancel,
    )


def import_every_module() -> None:
    """Import every feature module now (for tests that look at every button family)."""
    for module in MODULES:
        handler_module(module.name)
