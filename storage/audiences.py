"""Who can be reached at all: the one SQL definition of a live, reachable volunteer.

Campaigns, digests, broadcasts and invitations each add their own opt-ins and filters on top;
what "live and reachable" means is written only here.
"""

from __future__ import annotations

__all__ = ["VOLUNTEER_USERS", "reachable_volunteer"]

# The volunteer with their account (``u.is_reachable`` lives on the account).
VOLUNTEER_USERS = "volunteers v JOIN users u ON u.telegram_id = v.telegram_id"


def reachable_volunteer(*, respect_pause: bool) -> str:
    """A condition on :data:`VOLUNTEER_USERS`: not deleted, with a chat the bot can write to.

    With ``respect_pause`` also not paused on the given day, which is then the condition's one
    ``?`` parameter (an ISO date; ``paused_until`` is the first active day again). Broadcasts
    pass ``False``: an administrator's announcement reaches paused volunteers too.
    """
    condition = "v.deleted_at IS NULL AND v.telegram_id IS NOT NULL AND u.is_reachable = 1"
    if respect_pause:
        condition += " AND (v.paused_until IS NULL OR v.paused_until <= ?)"
    return condition
