"""Button families of emergency mobilization (``em.``): the on-call pool, the coordinator's form
and screens, the administrators' list of organizations allowed to mobilize, and the answers to
an alert.

They live apart from the modules that handle them so that ``/profile`` can draw the pool's
entry button without importing those modules. Every family names what it was drawn for (a
mobilization, a draft version); the service re-checks on the server that the presser may act
on it — an answer is taken from the presser's own alert, never from anything in the button.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.emergency import Availability, EmergencySkill, NeedSkill
from handlers.callbacks import Press

# -- the on-call pool (volunteers, from /profile) -------------------------------------------------


@dataclass(frozen=True)
class PoolShow(Press, prefix="em.pool"):
    """🚨 The on-call screen."""


@dataclass(frozen=True)
class PoolOnCall(Press, prefix="em.oncall"):
    on: bool


@dataclass(frozen=True)
class PoolSkill(Press, prefix="em.skill"):
    skill: EmergencySkill


@dataclass(frozen=True)
class PoolAreas(Press, prefix="em.areas"):
    """Choose the district."""


@dataclass(frozen=True)
class PoolArea(Press, prefix="em.area"):
    code: str


@dataclass(frozen=True)
class PoolWhen(Press, prefix="em.when"):
    availability: Availability


@dataclass(frozen=True)
class PoolKm(Press, prefix="em.km"):
    km: int


@dataclass(frozen=True)
class PoolPin(Press, prefix="em.pin"):
    """Share where you usually are (a map pin)."""


@dataclass(frozen=True)
class PoolPinClear(Press, prefix="em.pinx"):
    pass


# -- mobilizing (administrators and organizers of allowed organizations) ------------------------


@dataclass(frozen=True)
class MobMenu(Press, prefix="em.menu"):
    """The /mobilize screen."""


@dataclass(frozen=True)
class MobNew(Press, prefix="em.new"):
    organization_id: int


@dataclass(frozen=True)
class MobDraft(Press, prefix="em.draft"):
    mobilization_id: int


@dataclass(frozen=True)
class MobTitle(Press, prefix="em.title"):
    mobilization_id: int


@dataclass(frozen=True)
class MobPlace(Press, prefix="em.place"):
    mobilization_id: int


@dataclass(frozen=True)
class MobRally(Press, prefix="em.rally"):
    mobilization_id: int
    version: int
    minutes: int


@dataclass(frozen=True)
class MobDrill(Press, prefix="em.drill"):
    mobilization_id: int
    version: int
    drill: bool


@dataclass(frozen=True)
class MobNeed(Press, prefix="em.need"):
    mobilization_id: int
    version: int
    skill: NeedSkill
    up: bool


@dataclass(frozen=True)
class MobStart(Press, prefix="em.start"):
    """Start the draft drawn at ``version`` (a changed draft is refused, not started)."""

    mobilization_id: int
    version: int


# -- coordinating a running mobilization ----------------------------------------------------------


@dataclass(frozen=True)
class MobShow(Press, prefix="em.show"):
    """The live headcount (a new message, which the edits follow from then on)."""

    mobilization_id: int


@dataclass(frozen=True)
class MobWho(Press, prefix="em.who"):
    mobilization_id: int


@dataclass(frozen=True)
class MobUpdate(Press, prefix="em.upd"):
    mobilization_id: int


@dataclass(frozen=True)
class MobDownAsk(Press, prefix="em.downq"):
    mobilization_id: int


@dataclass(frozen=True)
class MobDown(Press, prefix="em.down"):
    mobilization_id: int


# -- organizations allowed to mobilize (administrators) -------------------------------------------


@dataclass(frozen=True)
class MobOrgs(Press, prefix="em.orgs"):
    pass


@dataclass(frozen=True)
class MobGrantAsk(Press, prefix="em.grantq"):
    pass


@dataclass(frozen=True)
class MobGrant(Press, prefix="em.grant"):
    organization_id: int


@dataclass(frozen=True)
class MobRevoke(Press, prefix="em.revoke"):
    organization_id: int


# -- answering an alert (volunteers) ---------------------------------------------------------------


@dataclass(frozen=True)
class AlertAnswer(Press, prefix="em.ans"):
    """I can come in ``eta`` minutes (15, 30, 60), or can't (``eta`` 0)."""

    mobilization_id: int
    eta: int
