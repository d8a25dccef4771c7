"""Button families of emergency mobilization (``em.``): the on-call pool, the coordinator's form
and screens, the administrators' list of organizations allowed to mobilize, and the answers to
an alert.

They live apart from the modules that handle them so that ``/profile`` can draw the pool's
entry button without importing those modules. Every family names what it was drawn for (a
mobilization, a draft version); the service re-checks on the server that the presser may act
on it — an answer is taken from the presser's own alert, never from anything in the button.
"""

from __future__ import annotations

from bot.domain.emergency import Availability, EmergencySkill, NeedSkill
from handlers.callbacks import Press

# -- the on-call pool (volunteers, from /profile) -------------------------------------------------


class PoolShow(Press, prefix="em.pool"):
    """🚨 The on-call screen."""


class PoolOnCall(Press, prefix="em.oncall"):
    on: bool


class PoolSkill(Press, prefix="em.skill"):
    skill: EmergencySkill


class PoolAreas(Press, prefix="em.areas"):
    """Choose the district."""


class PoolArea(Press, prefix="em.area"):
    code: str


class PoolWhen(Press, prefix="em.when"):
    availability: Availability


class PoolKm(Press, prefix="em.km"):
    km: int


class PoolPin(Press, prefix="em.pin"):
    """Share where you usually are (a map pin)."""


class PoolPinClear(Press, prefix="em.pinx"):
    pass


# -- mobilizing (administrators and organizers of allowed organizations) ------------------------


class MobMenu(Press, prefix="em.menu"):
    """The /mobilize screen."""


class MobNew(Press, prefix="em.new"):
    organization_id: int


class MobDraft(Press, prefix="em.draft"):
    mobilization_id: int


class MobTitle(Press, prefix="em.title"):
    mobilization_id: int


class MobPlace(Press, prefix="em.place"):
    mobilization_id: int


class MobRally(Press, prefix="em.rally"):
    mobilization_id: int
    version: int
    minutes: int


class MobDrill(Press, prefix="em.drill"):
    mobilization_id: int
    version: int
    drill: bool


class MobNeed(Press, prefix="em.need"):
    mobilization_id: int
    version: int
    skill: NeedSkill
    up: bool


class MobStart(Press, prefix="em.start"):
    """Start the draft drawn at ``version`` (a changed draft is refused, not started)."""

    mobilization_id: int
    version: int


# -- coordinating a running mobilization ----------------------------------------------------------


class MobShow(Press, prefix="em.show"):
    """The live headcount (a new message, which the edits follow from then on)."""

    mobilization_id: int


class MobWho(Press, prefix="em.who"):
    mobilization_id: int


class MobUpdate(Press, prefix="em.upd"):
    mobilization_id: int


class MobDownAsk(Press, prefix="em.downq"):
    mobilization_id: int


class MobDown(Press, prefix="em.down"):
    mobilization_id: int


# -- organizations allowed to mobilize (administrators) -------------------------------------------


class MobOrgs(Press, prefix="em.orgs"):
    pass


class MobGrantAsk(Press, prefix="em.grantq"):
    pass


class MobGrant(Press, prefix="em.grant"):
    organization_id: int


class MobRevoke(Press, prefix="em.revoke"):
    organization_id: int


# -- answering an alert (volunteers) ---------------------------------------------------------------


class AlertAnswer(Press, prefix="em.ans"):
    """I can come in ``eta`` minutes (15, 30, 60), or can't (``eta`` 0)."""

    mobilization_id: int
    eta: int
