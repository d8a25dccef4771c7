"""The activity card's sign-up button families (``su.``), drawn by the card
(:mod:`handlers.activity_view`), invitations (:mod:`handlers.recruit`) and reminders, and handled
by :mod:`handlers.signup`.

A card's buttons carry the view it was opened from (:meth:`handlers.activity_view.View.code`),
so the card shown after the press keeps its Back to the same list and page.

Old colon-separated data (``su:join:7:x``, drawn before these families, on messages already
sent and still by the campaign cards) is read by :func:`handlers.signup.legacy_press` into the
same families. This module imports no other handler, so the card can draw the buttons without
an import circle.
"""

from __future__ import annotations

from handlers.callbacks import Press


class SignupJoin(Press, prefix="su.join"):
    activity_id: int
    view: str  # View.code() of the list the card was opened from


class SignupWait(Press, prefix="su.wait"):
    """Join the waitlist."""

    activity_id: int
    view: str  # View.code() of the list the card was opened from


class SignupPromise(Press, prefix="su.promise"):
    """ "Yes, I will come": signing up (or waiting) after several no-shows."""

    activity_id: int
    view: str  # View.code() of the list the card was opened from
    waitlist: bool


class SignupResume(Press, prefix="su.resume"):
    """A paused volunteer resumes volunteering from the card (then may sign up)."""

    activity_id: int
    view: str  # View.code() of the list the card was opened from


class SignupCancelAsk(Press, prefix="su.cx"):
    activity_id: int
    view: str  # View.code() of the list the card was opened from


class SignupCancel(Press, prefix="su.cx.reason"):
    """Cancel with a preset reason (``code``, a key of ``CANCEL_REASONS``) or ``none``."""

    activity_id: int
    code: str
    view: str  # View.code() of the list the card was opened from


class SignupCancelTyped(Press, prefix="su.cx.type"):
    """Cancel with a reason typed next (flow ``cancel_signup``)."""

    activity_id: int
    view: str  # View.code() of the list the card was opened from


class OfferAccept(Press, prefix="su.acc"):
    signup_id: int


class OfferDecline(Press, prefix="su.dec"):
    signup_id: int


class SignupCalendar(Press, prefix="su.ics"):
    activity_id: int


class SignupMap(Press, prefix="su.map"):
    activity_id: int
