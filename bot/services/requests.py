"""Resident requests: 点单 (order) → 派单 (dispatch) → 接单 (accept and serve) → 评单 (rate).

Who may do what, re-checked here on every press (button data is client input):

- **residents** (anyone, no volunteer registration) order, follow, cancel (until the team has
  started) and rate their *own* requests: a press names a request, the resident is whoever
  pressed;
- **dispatchers** act on requests of the areas they were appointed to (``dispatchers``); the
  federation's administrators dispatch everywhere and appoint the dispatchers;
- **teams** are the organizers of the organization a request was sent to
  (:meth:`StaffService.organization_for`), and only while it is theirs;
- **volunteers** answer only a request their team asked them to serve.

Every change is one conditional ``UPDATE`` with the version the button was drawn for
(:meth:`storage.requests.RequestsRepository.change_in`), in the same transaction as its events
and notifications, so a double press, a stale screen or two people at once change it once.

What each viewer sees of the resident's address and phone: :func:`bot.domain.requests.shows_contact`
(a view handed to a handler has them blanked when not allowed, so no handler can leak them).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.activities import Activity, ActivityStatus, NewActivity
from bot.domain.dateparse import WhenError, parse_when, when_invalid
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.domain.requests import (
    LOW_RATING,
    MASK_AFTER,
    STARS,
    Beneficiary,
    DraftRow,
    Helper,
    HelperStatus,
    OrderStep,
    RequestDraft,
    RequestStats,
    RequestStatus,
    ServiceMode,
    ServiceRequest,
    Suggestion,
    TimeoutAction,
    Viewer,
    check_minutes,
    clean_address,
    clean_comment,
    clean_need,
    clean_reason,
    clean_report,
    escalation_due,
    request_stats,
    shows_contact,
    suggest_organizations,
    timeout_action,
)
from bot.domain.validation import InvalidInput, normalize_phone
from bot.domain.volunteers import CatalogItem
from bot.services.organizations import APPOINT_FORMAT, APPOINT_UNKNOWN
from bot.services.recruiting import VolunteerMatch, prerank_weights, rank_volunteers
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogRepository
from storage.db import Database, Transaction
from storage.outbox import OutboxRepository
from storage.recruiting import RecruitingRepository
from storage.requests import NewHelperRecord, RequestsRepository
from storage.users import UsersRepository

__all__ = [
    "RequestPolicy",
    "RequestRefusal",
    "RequestRefused",
    "RequestService",
    "RequestView",
    "TickReport",
]

log = logging.getLogger(__name__)

_USER_ID = re.compile(r"\d{1,16}")
_USERNAME = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{3,31})")

#: Helpers suggested to a team at once.
HELPER_SUGGESTIONS = 8
#: Seats of an activity made from a request (the team can edit it like any activity).
ACTIVITY_CAPACITY = 3


class RequestRefusal(StrEnum):
    NOT_FOUND = "not_found"  # no such request (forged)
    NOT_YOURS = "not_yours"  # another resident's request
    NOT_DISPATCHER = "not_dispatcher"  # not a dispatcher of the request's area
    NOT_TEAM = "not_team"  # the request is not (any more) with this person's organization
    STALE = "stale"  # it changed since the screen was drawn
    CANNOT_CANCEL = "cannot_cancel"  # in service, completed or closed
    NOT_COMPLETED = "not_completed"  # rating before completion
    BAD_RATING = "bad_rating"  # not 1–5 (forged)
    NOT_RATED = "not_rated"  # a comment without a rating
    NOT_ASKED = "not_asked"  # a volunteer press without being asked
    NO_DRAFT = "no_draft"  # the order was already sent or discarded
    INCOMPLETE = "incomplete"  # a forged "send" before every answer
    BAD_CHOICE = "bad_choice"  # a category, area or choice that does not exist (forged)
    NOT_ADMIN = "not_admin"  # the dispatchers screen is for administrators
    ALREADY_DISPATCHER = "already_dispatcher"
    NOT_ORGANIZATION = "not_organization"  # dispatch to an organization that cannot take it
    WRONG_MODE = "wrong_mode"  # helpers after an activity was made, or the reverse
    TOO_LATE = "too_late"  # an activity needs a time in the future
    NOT_VOLUNTEER = "not_volunteer"  # asking someone who is no (longer a) volunteer


class RequestRefused(Refused):
    def __init__(self, reason: RequestRefusal) -> None:
        super().__init__(reason)
        self.reason: RequestRefusal = reason


@dataclass(frozen=True)
class RequestPolicy:
    accept_timeout: timedelta = timedelta(hours=2)
    urgent_escalation: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class RequestView:
    """A request as one viewer may see it: address, phone and pin blanked unless allowed."""

    request: ServiceRequest
    viewer: Viewer
    contact_shown: bool


@dataclass(frozen=True)
class TickReport:
    reminded: int = 0
    redispatched: int = 0
    requeued: int = 0
    escalated: int = 0
    masked: int = 0

    @property
    def anything(self) -> bool:
        return any((self.reminded, self.redispatched, self.requeued, self.escalated, self.masked))


def view_of(request: ServiceRequest, viewer: Viewer) -> RequestView:
    if shows_contact(viewer, request.status):
        return RequestView(request, viewer, True)
    blank = request.model_copy(
        update={"address": "", "phone": "", "latitude": None, "longitude": None}
    )
    return RequestView(blank, viewer, False)


def _subject(request_id: int, *parts: object) -> str:
    return ":".join(["request", str(request_id), *(str(part) for part in parts)])


class RequestService:
    def __init__(
        self,
        db: Database,
        repo: RequestsRepository,
        catalog: CatalogRepository,
        staff: StaffService,
        users: UsersRepository,
        clock: Clock,
        tz: ZoneInfo,
        admin_ids: frozenset[int],
        policy: RequestPolicy | None = None,
    ) -> None:
        self._db = db
        self._repo = repo
        self._catalog = catalog
        self._staff = staff
        self._users = users
        self._clock = clock
        self._tz = tz
        self._admin_ids = admin_ids
        self.policy = policy or RequestPolicy()

    def now(self) -> datetime:
        return self._clock()

    # ============================================================== residents: the order form

    async def draft(self, telegram_id: int) -> DraftRow | None:
        return await self._repo.draft(telegram_id)

    async def start_order(self, telegram_id: int) -> DraftRow:
        """The half-filled order, or a new one at its first question."""
        found = await self._repo.draft(telegram_id)
        if found is not None:
            return found
        draft = RequestDraft()
        await self._repo.save_draft(telegram_id, OrderStep.CATEGORY.value, draft, self.now())
        return DraftRow(OrderStep.CATEGORY.value, draft)

    async def _update(self, telegram_id: int, **values: Any) -> DraftRow:
        found = await self._repo.draft(telegram_id)
        if found is None:
            raise RequestRefused(RequestRefusal.NO_DRAFT)
        draft = found.data.model_copy(update=values)
        step = draft.first_missing() or OrderStep.PREVIEW
        await self._repo.save_draft(telegram_id, step.value, draft, self.now())
        return DraftRow(step.value, draft)

    async def go_to(self, telegram_id: int, step: OrderStep) -> DraftRow:
        """Ask ``step`` again (an edit from the preview)."""
        found = await self._repo.draft(telegram_id)
        if found is None:
            raise RequestRefused(RequestRefusal.NO_DRAFT)
        await self._repo.save_draft(telegram_id, step.value, found.data, self.now())
        return DraftRow(step.value, found.data)

    async def choose(self, telegram_id: int, step: OrderStep, value: str) -> DraftRow:
        """A button answer: the category, the area, for whom, urgent or not."""
        if step is OrderStep.CATEGORY:
            item = await self._catalog.category(value)
            if item is None or not item.is_active:
                raise RequestRefused(RequestRefusal.BAD_CHOICE)
            return await self._update(telegram_id, category_code=value)
        if step is OrderStep.AREA:
            area = await self._catalog.area(value)
            if area is None or not area.is_active:
                raise RequestRefused(RequestRefusal.BAD_CHOICE)
            return await self._update(telegram_id, area_code=value)
        if step is OrderStep.BENEFICIARY:
            try:
                beneficiary = Beneficiary(value)
            except ValueError:
                raise RequestRefused(RequestRefusal.BAD_CHOICE) from None
            return await self._update(telegram_id, beneficiary=beneficiary)
        if step is OrderStep.URGENT and value in ("yes", "no"):
            return await self._update(telegram_id, urgent=value == "yes")
        raise RequestRefused(RequestRefusal.BAD_CHOICE)

    async def type_need(self, telegram_id: int, text: str) -> DraftRow:
        return await self._update(telegram_id, need=clean_need(text))

    async def type_when(self, telegram_id: int, text: str) -> DraftRow:
        parsed = parse_when(text, self.now(), self._tz)
        if isinstance(parsed, WhenError):
            raise when_invalid(parsed)
        return await self._update(telegram_id, starts_at=parsed.starts_at, ends_at=parsed.ends_at)

    async def type_address(self, telegram_id: int, text: str) -> DraftRow:
        return await self._update(telegram_id, address=clean_address(text))

    async def pin(self, telegram_id: int, latitude: float, longitude: float) -> DraftRow:
        """A location pin instead of (or besides) a typed address."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise RequestRefused(RequestRefusal.BAD_CHOICE)
        found = await self._repo.draft(telegram_id)
        address = found.data.address if found is not None else None
        return await self._update(
            telegram_id,
            latitude=latitude,
            longitude=longitude,
            # A pin alone is an address too; the coordinates are what the team opens.
            address=address or f"📍 {latitude:.5f}, {longitude:.5f}",
        )

    async def type_phone(self, telegram_id: int, text: str, name: str) -> DraftRow:
        return await self._update(telegram_id, phone=normalize_phone(text), contact_name=name)

    async def share_contact(self, telegram_id: int, phone: str, name: str) -> DraftRow:
        """A shared contact: the resident's own, or a relative's they forwarded."""
        return await self._update(
            telegram_id, phone=normalize_phone(phone), contact_name=name.strip()[:64] or "-"
        )

    async def discard(self, telegram_id: int) -> bool:
        return await self._repo.delete_draft(telegram_id)

    async def submit(self, telegram_id: int) -> ServiceRequest:
        """Send the order: the request is queued and the area's dispatchers (or, where the area
        has none yet, the federation's administrators) are told, in one transaction."""
        found = await self._repo.draft(telegram_id)
        if found is None:
            raise RequestRefused(RequestRefusal.NO_DRAFT)
        if found.data.first_missing() is not None or found.data.area_code is None:
            raise RequestRefused(RequestRefusal.INCOMPLETE)
        now = self.now()
        admins = await self._repo.admins(self._admin_ids)
        async with self._db.transaction() as tx:
            if not await RequestsRepository.delete_draft_in(tx, telegram_id):
                raise RequestRefused(RequestRefusal.NO_DRAFT)  # sent by a second press meanwhile
            request_id = await RequestsRepository.create_in(tx, telegram_id, found.data, now)
            await RequestsRepository.event_in(tx, request_id, "created", now, actor=telegram_id)
            dispatchers = await RequestsRepository.dispatchers_in(tx, found.data.area_code)
            await self._notify(
                tx, NotificationKind.REQUEST_NEW, dispatchers or admins, request_id,
                _subject(request_id, "new"), now,
            )  # fmt: skip
        log.info("user %s ordered request %s", telegram_id, request_id)
        request = await self._repo.get(request_id)
        assert request is not None
        return request

    # ============================================================== residents: following

    async def mine(self, telegram_id: int) -> list[ServiceRequest]:
        return await self._repo.of_resident(telegram_id)

    async def own(self, telegram_id: int, request_id: int) -> ServiceRequest:
        request = await self._get(request_id, telegram_id)
        if request.resident_id != telegram_id:
            log.warning("user %s pressed on request %s of someone else", telegram_id, request_id)
            raise RequestRefused(RequestRefusal.NOT_YOURS)
        return request

    async def resident_notice(self, telegram_id: int, request_id: int) -> ServiceRequest | None:
        """For the resident's status notice (``None``: not theirs any more)."""
        try:
            return await self.own(telegram_id, request_id)
        except RequestRefused:
            return None

    async def cancel(self, telegram_id: int, request_id: int, version: int) -> ServiceRequest:
        request = await self.own(telegram_id, request_id)
        if not request.status.cancellable:
            raise RequestRefused(RequestRefusal.CANNOT_CANCEL)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id,
                from_statuses=(RequestStatus.QUEUED, RequestStatus.DISPATCHED,
                               RequestStatus.ACCEPTED),
                version=version, now=now,
                status=RequestStatus.CANCELLED, closed_at=now,
            )  # fmt: skip
            if not changed:
                raise await self._why_not(tx, request_id, RequestRefusal.CANNOT_CANCEL)
            await RequestsRepository.event_in(tx, request_id, "cancelled", now, actor=telegram_id)
            told = set(await RequestsRepository.dispatchers_in(tx, request.area_code))
            if request.organization_id is not None:
                told |= set(await RequestsRepository.members_in(tx, request.organization_id))
            told |= set(await RequestsRepository.asked_helpers_in(tx, request_id))
            told.discard(telegram_id)
            await self._notify(
                tx, NotificationKind.REQUEST_WITHDRAWN, sorted(told), request_id,
                _subject(request_id, "withdrawn"), now,
            )  # fmt: skip
        return await self._fresh(request_id)

    async def rate(self, telegram_id: int, request_id: int, rating: int) -> ServiceRequest:
        """The resident's rating (评单), changeable; a first rating (or a change) down to
        :data:`LOW_RATING` tells the area's dispatchers."""
        if rating not in STARS:
            raise RequestRefused(RequestRefusal.BAD_RATING)
        request = await self.own(telegram_id, request_id)
        if request.status is not RequestStatus.COMPLETED:
            raise RequestRefused(RequestRefusal.NOT_COMPLETED)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.COMPLETED,), version=None, now=now,
                bump=False, rating=rating, rated_at=now,
            )  # fmt: skip
            if not changed:
                raise RequestRefused(RequestRefusal.NOT_COMPLETED)
            await RequestsRepository.event_in(
                tx, request_id, "rated", now, actor=telegram_id, reason=str(rating)
            )
            newly_low = rating <= LOW_RATING and (
                request.rating is None or request.rating > LOW_RATING
            )
            if newly_low:
                told = await RequestsRepository.dispatchers_in(tx, request.area_code)
                await self._notify(
                    tx, NotificationKind.REQUEST_LOW_RATING,
                    told or await self._repo.admins(self._admin_ids), request_id,
                    _subject(request_id, "low", now.isoformat()), now,
                )  # fmt: skip
        return await self._fresh(request_id)

    async def comment(self, telegram_id: int, request_id: int, text: str) -> ServiceRequest:
        comment = clean_comment(text)
        request = await self.own(telegram_id, request_id)
        if request.rating is None:
            raise RequestRefused(RequestRefusal.NOT_RATED)
        async with self._db.transaction() as tx:
            await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.COMPLETED,), version=None,
                now=self.now(), bump=False, rating_comment=comment,
            )  # fmt: skip
        return await self._fresh(request_id)

    # ============================================================== dispatchers

    async def dispatch_areas(self, telegram_id: int) -> list[str] | None:
        """The areas this person dispatches for: ``None`` for every area (administrators),
        an empty list for someone who is no dispatcher."""
        if await self._staff.is_admin(telegram_id):
            return None
        return await self._repo.areas_of(telegram_id)

    async def is_dispatcher(self, telegram_id: int) -> bool:
        areas = await self.dispatch_areas(telegram_id)
        return areas is None or bool(areas)

    async def _require_dispatcher(self, telegram_id: int) -> list[str] | None:
        areas = await self.dispatch_areas(telegram_id)
        if areas is not None and not areas:
            log.warning("user %s is no dispatcher", telegram_id)
            raise RequestRefused(RequestRefusal.NOT_DISPATCHER)
        return areas

    async def queue(self, telegram_id: int) -> list[ServiceRequest]:
        """Waiting requests of the dispatcher's areas, urgent first, then oldest."""
        return await self._repo.queue(await self._require_dispatcher(telegram_id))

    async def _for_dispatcher(self, telegram_id: int, request_id: int) -> ServiceRequest:
        areas = await self._require_dispatcher(telegram_id)
        request = await self._get(request_id, telegram_id)
        if areas is not None and request.area_code not in areas:
            log.warning("dispatcher %s pressed on request %s of another area", telegram_id,
                        request_id)  # fmt: skip
            raise RequestRefused(RequestRefusal.NOT_DISPATCHER)
        return request

    async def dispatch_card(
        self, telegram_id: int, request_id: int
    ) -> tuple[RequestView, list[Suggestion]]:
        request = await self._for_dispatcher(telegram_id, request_id)
        suggestions: list[Suggestion] = []
        if request.status in (RequestStatus.QUEUED, RequestStatus.DISPATCHED):
            candidates = await RequestsRepository.org_candidates_in(
                self._db.fetch_all, request.category_code
            )
            exclude = await self._repo.tried_organizations(request_id)
            if request.organization_id is not None:
                exclude |= {request.organization_id}
            suggestions = suggest_organizations(candidates, request.area_code, exclude=exclude)
        return view_of(request, Viewer.DISPATCHER), suggestions

    async def dispatcher_notice(self, telegram_id: int, request_id: int) -> RequestView | None:
        """For notices to dispatchers (``None``: the recipient no longer dispatches there)."""
        try:
            return view_of(await self._for_dispatcher(telegram_id, request_id), Viewer.DISPATCHER)
        except RequestRefused:
            return None

    async def dispatch(
        self, telegram_id: int, request_id: int, version: int, organization_id: int
    ) -> ServiceRequest:
        """Send the request to an organization (派单); its organizers are asked to accept."""
        request = await self._for_dispatcher(telegram_id, request_id)
        now = self.now()
        async with self._db.transaction() as tx:
            candidates = await RequestsRepository.org_candidates_in(
                tx.fetch_all, request.category_code
            )
            if organization_id not in {c.organization_id for c in candidates}:
                raise RequestRefused(RequestRefusal.NOT_ORGANIZATION)
            await self._send_to(tx, request, version, organization_id, telegram_id, now)
        log.info("dispatcher %s sent request %s to organization %s", telegram_id, request_id,
                 organization_id)  # fmt: skip
        return await self._fresh(request_id)

    async def _send_to(
        self,
        tx: Transaction,
        request: ServiceRequest,
        version: int,
        organization_id: int,
        by: int | None,
        now: datetime,
    ) -> None:
        changed = await RequestsRepository.change_in(
            tx, request.request_id,
            from_statuses=(RequestStatus.QUEUED, RequestStatus.DISPATCHED),
            version=version, now=now,
            status=RequestStatus.DISPATCHED, organization_id=organization_id, dispatched_by=by,
            dispatched_at=now, first_dispatched_at=request.first_dispatched_at or now,
            dispatch_round=request.dispatch_round + 1, reminded_at=None, status_reason=None,
        )  # fmt: skip
        if not changed:
            raise await self._why_not(tx, request.request_id, RequestRefusal.STALE)
        await RequestsRepository.event_in(
            tx, request.request_id, "offered", now, actor=by, organization_id=organization_id
        )
        round_ = request.dispatch_round + 1
        members = await RequestsRepository.members_in(tx, organization_id)
        await self._notify(
            tx, NotificationKind.REQUEST_ASSIGNED, members, request.request_id,
            _subject(request.request_id, "round", round_), now,
        )  # fmt: skip
        if request.organization_id is not None and request.organization_id != organization_id:
            # The team it was with before (a dispatcher re-directed it) is told it is gone.
            before = await RequestsRepository.members_in(tx, request.organization_id)
            await self._notify(
                tx, NotificationKind.REQUEST_WITHDRAWN, before, request.request_id,
                _subject(request.request_id, "moved", round_), now,
            )  # fmt: skip
        await self._tell_resident(tx, request, now, round_)

    async def reject(
        self, telegram_id: int, request_id: int, version: int, text: str
    ) -> ServiceRequest:
        reason = clean_reason(text)
        request = await self._for_dispatcher(telegram_id, request_id)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.QUEUED, RequestStatus.DISPATCHED),
                version=version, now=now,
                status=RequestStatus.REJECTED, status_reason=reason, closed_at=now,
            )  # fmt: skip
            if not changed:
                raise await self._why_not(tx, request_id, RequestRefusal.STALE)
            await RequestsRepository.event_in(
                tx, request_id, "rejected", now, actor=telegram_id, reason=reason
            )
            if request.organization_id is not None:
                members = await RequestsRepository.members_in(tx, request.organization_id)
                await self._notify(
                    tx, NotificationKind.REQUEST_WITHDRAWN, members, request_id,
                    _subject(request_id, "withdrawn"), now,
                )  # fmt: skip
            await self._tell_resident(tx, request, now, "rejected")
        return await self._fresh(request_id)

    # ============================================================== administrators: dispatchers

    async def dispatchers(self, actor: int) -> list[tuple[str, int, str]]:
        await self._require_admin(actor)
        return await self._repo.all_dispatchers()

    async def areas(self) -> list[CatalogItem]:
        return await self._catalog.areas()

    async def area(self, code: str) -> CatalogItem | None:
        return await self._catalog.area(code)

    async def category(self, code: str) -> CatalogItem | None:
        return await self._catalog.category(code)

    async def categories(self) -> list[CatalogItem]:
        return await self._catalog.categories()

    async def appoint(self, actor: int, area_code: str, reference: str) -> tuple[str, int]:
        """Make someone who has used the bot a dispatcher of the area (by id or @username);
        returns their name and id."""
        await self._require_admin(actor)
        if await self._catalog.area(area_code) is None:
            raise RequestRefused(RequestRefusal.BAD_CHOICE)
        text = reference.strip()
        target: int | None
        if _USER_ID.fullmatch(text):
            target = int(text)
        elif match := _USERNAME.fullmatch(text):
            target = await self._users_by_name(match.group(1))
        else:
            raise InvalidInput(APPOINT_FORMAT)
        user = await self._users.get(target) if target is not None else None
        if user is None:
            raise InvalidInput(APPOINT_UNKNOWN)
        if not await self._repo.appoint(area_code, user.telegram_id, actor, self.now()):
            raise RequestRefused(RequestRefusal.ALREADY_DISPATCHER)
        log.info("user %s appointed %s dispatcher of %s", actor, user.telegram_id, area_code)
        return user.first_name, user.telegram_id

    async def remove_dispatcher(self, actor: int, area_code: str, target: int) -> bool:
        await self._require_admin(actor)
        return await self._repo.remove_dispatcher(area_code, target)

    async def _users_by_name(self, username: str) -> int | None:
        row = await self._db.fetch_one(
            "SELECT telegram_id FROM users WHERE lower(username) = lower(?) "
            "ORDER BY last_seen_at DESC LIMIT 1",
            (username,),
        )
        return int(row["telegram_id"]) if row is not None else None

    async def _require_admin(self, actor: int) -> None:
        if not await self._staff.is_admin(actor):
            log.warning("user %s opened the dispatchers screen without being an admin", actor)
            raise RequestRefused(RequestRefusal.NOT_ADMIN)

    # ============================================================== teams

    async def team_requests(self, telegram_id: int) -> list[ServiceRequest]:
        """What this person's organizations hold now."""
        organizations = await self._staff.organizations_of(telegram_id)
        return await self._repo.of_organizations([o.organization_id for o, _ in organizations])

    async def _for_team(self, telegram_id: int, request_id: int) -> ServiceRequest:
        request = await self._get(request_id, telegram_id)
        if request.organization_id is None:
            log.warning("user %s pressed a team button of request %s held by no team",
                        telegram_id, request_id)  # fmt: skip
            raise RequestRefused(RequestRefusal.NOT_TEAM)
        try:
            await self._staff.organization_for(telegram_id, request.organization_id)
        except StaffRefused:
            raise RequestRefused(RequestRefusal.NOT_TEAM) from None
        return request

    async def team_card(
        self, telegram_id: int, request_id: int
    ) -> tuple[RequestView, list[Helper]]:
        request = await self._for_team(telegram_id, request_id)
        return view_of(request, Viewer.TEAM), await self._repo.helpers(request_id)

    async def team_notice(self, telegram_id: int, request_id: int) -> RequestView | None:
        """For "a request for your team" and its reminder: ``None`` once it moved on."""
        try:
            request = await self._for_team(telegram_id, request_id)
        except RequestRefused:
            return None
        if request.status is not RequestStatus.DISPATCHED:
            return None
        return view_of(request, Viewer.TEAM)

    async def accept(self, telegram_id: int, request_id: int, version: int) -> RequestView:
        request = await self._for_team(telegram_id, request_id)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.DISPATCHED,), version=version,
                now=now, status=RequestStatus.ACCEPTED, accepted_by=telegram_id, accepted_at=now,
            )  # fmt: skip
            if not changed:
                raise await self._why_not(tx, request_id, RequestRefusal.STALE)
            await RequestsRepository.event_in(
                tx, request_id, "accepted", now, actor=telegram_id,
                organization_id=request.organization_id,
            )  # fmt: skip
            await self._tell_resident(tx, request, now, "accepted")
        return view_of(await self._fresh(request_id), Viewer.TEAM)

    async def decline(
        self, telegram_id: int, request_id: int, version: int, text: str
    ) -> ServiceRequest:
        """The team declines (with a reason): back to the queue, the dispatchers told."""
        reason = clean_reason(text)
        request = await self._for_team(telegram_id, request_id)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.DISPATCHED,), version=version,
                now=now, status=RequestStatus.QUEUED, organization_id=None, dispatched_at=None,
                reminded_at=None, status_reason=reason,
            )  # fmt: skip
            if not changed:
                raise await self._why_not(tx, request_id, RequestRefusal.STALE)
            await RequestsRepository.event_in(
                tx, request_id, "declined", now, actor=telegram_id,
                organization_id=request.organization_id, reason=reason,
            )  # fmt: skip
            await self._back_to_dispatchers(tx, request, now, "declined")
            await self._tell_resident(tx, request, now, f"requeued{request.dispatch_round}")
        return await self._fresh(request_id)

    async def helper_suggestions(
        self, telegram_id: int, request_id: int
    ) -> tuple[RequestView, list[VolunteerMatch], list[Helper]]:
        """Volunteers who fit the request (the recruiting ranking: interest in the category,
        district, free at that time), leaving out those already asked."""
        request = await self._for_team(telegram_id, request_id)
        self._require_serving(request)
        if request.service_mode is ServiceMode.ACTIVITY:
            raise RequestRefused(RequestRefusal.WRONG_MODE)
        helpers = await self._repo.helpers(request_id)
        asked = {helper.volunteer_id for helper in helpers}
        matches = await self._matching_volunteers(request, HELPER_SUGGESTIONS + len(asked))
        fresh = [m for m in matches if m.volunteer_id not in asked][:HELPER_SUGGESTIONS]
        return view_of(request, Viewer.TEAM), fresh, helpers

    async def _matching_volunteers(
        self, request: ServiceRequest, limit: int
    ) -> list[VolunteerMatch]:
        now = self.now()
        # The request seen as a one-off activity, so the recruiting ranking applies unchanged
        # (id 0 matches no sign-up or invitation; it starts no earlier than in an hour, as
        # ranking only considers what can still be joined).
        start = max(request.starts_at, now + timedelta(hours=1))
        activity = Activity(
            activity_id=0, organization_id=request.organization_id or 0,
            organization_name=request.organization_name or "", title="",
            category_code=request.category_code, description="", starts_at=start,
            ends_at=start + (request.ends - request.starts_at),
            place="", area_code=request.area_code, latitude=None, longitude=None, capacity=1,
            required_skills=(), training_required=False, adults_only=False, people_served=(),
            signup_deadline=None, signups_closed_at=None, key_date=None, leader_name=None,
            status=ActivityStatus.PUBLISHED, cancel_reason=None, confirmed_count=0,
            offered_count=0, waitlist_count=0, created_at=now, updated_at=now,
        )  # fmt: skip
        ids = await RecruitingRepository.candidates(
            self._db.fetch_all, activity, today=now.astimezone(self._tz).date(),
            cooldown_since=now, weights=prerank_weights(activity, self._tz), limit=limit,
        )  # fmt: skip
        profiles = await RecruitingRepository.profiles(self._db.fetch_all, ids)
        return rank_volunteers(
            activity, (profiles[i] for i in ids if i in profiles), now=now, tz=self._tz,
            limit=limit,
        )  # fmt: skip

    @staticmethod
    def _require_serving(request: ServiceRequest) -> None:
        if request.status not in (RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE):
            raise RequestRefused(RequestRefusal.STALE)

    async def ask_helper(self, telegram_id: int, request_id: int, volunteer_id: int) -> Helper:
        """Ask one volunteer (the team picked them from the suggestions); they answer yes/no."""
        request = await self._for_team(telegram_id, request_id)
        self._require_serving(request)
        profiles = await RecruitingRepository.profiles(self._db.fetch_all, [volunteer_id])
        profile = profiles.get(volunteer_id)
        if profile is None or profile.telegram_id is None:
            raise RequestRefused(RequestRefusal.NOT_VOLUNTEER)
        now = self.now()
        async with self._db.transaction() as tx:
            chosen = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE),
                version=None, now=now, bump=False, mode_free=True,
                service_mode=ServiceMode.VOLUNTEERS,
            )  # fmt: skip
            if not chosen:
                current = await RequestsRepository.get_in(tx, request_id)
                if current is None or current.service_mode is not ServiceMode.VOLUNTEERS:
                    raise RequestRefused(RequestRefusal.WRONG_MODE)
                if current.status not in (RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE):
                    raise RequestRefused(RequestRefusal.STALE)
            if await RequestsRepository.ask_in(tx, request_id, volunteer_id, telegram_id, now):
                await self._notify(
                    tx, NotificationKind.REQUEST_HELP_ASKED, [profile.telegram_id], request_id,
                    _subject(request_id, "ask", volunteer_id), now,
                )  # fmt: skip
        return next(
            h for h in await self._repo.helpers(request_id) if h.volunteer_id == volunteer_id
        )

    async def make_activity(
        self, telegram_id: int, request_id: int, version: int, leader_name: str
    ) -> Activity:
        """Turn the request into a published activity with sign-up: volunteers find it in the
        service menu. Its place is the district (the address stays with the team)."""
        request = await self._for_team(telegram_id, request_id)
        if request.status is not RequestStatus.ACCEPTED:
            raise RequestRefused(RequestRefusal.STALE)
        now = self.now()
        if request.starts_at <= now:
            raise RequestRefused(RequestRefusal.TOO_LATE)
        category = await self._catalog.category(request.category_code)
        area = await self._catalog.area(request.area_code)
        assert request.organization_id is not None
        new = NewActivity(
            organization_id=request.organization_id,
            title=_record_title(category, request.request_id),
            category_code=request.category_code,
            description=request.need,
            starts_at=request.starts_at,
            ends_at=request.ends,
            place=area.name_zh if area is not None else request.area_code,
            area_code=request.area_code,
            capacity=ACTIVITY_CAPACITY,
            leader_name=leader_name[:64] or None,
            created_by=telegram_id,
        )
        async with self._db.transaction() as tx:
            activity_id = await ActivitiesRepository.insert(tx, new, now)
            changed = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.ACCEPTED,), version=version,
                now=now, mode_free=True, service_mode=ServiceMode.ACTIVITY,
                activity_id=activity_id,
            )  # fmt: skip
            if not changed:
                # Rolls the activity back with it.
                raise await self._why_not(tx, request_id, RequestRefusal.WRONG_MODE)
            await RequestsRepository.event_in(
                tx, request_id, "activity", now, actor=telegram_id,
                organization_id=request.organization_id, reason=str(activity_id),
            )  # fmt: skip
        found = await ActivitiesRepository(self._db).get(activity_id)
        assert found is not None
        return found

    async def start_service(self, telegram_id: int, request_id: int, version: int) -> RequestView:
        request = await self._for_team(telegram_id, request_id)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id, from_statuses=(RequestStatus.ACCEPTED,), version=version,
                now=now, status=RequestStatus.IN_SERVICE, in_service_at=now,
            )  # fmt: skip
            if not changed:
                raise await self._why_not(tx, request_id, RequestRefusal.STALE)
            await RequestsRepository.event_in(
                tx, request_id, "in_service", now, actor=telegram_id,
                organization_id=request.organization_id,
            )  # fmt: skip
            await self._tell_resident(tx, request, now, "in_service")
        return view_of(await self._fresh(request_id), Viewer.TEAM)

    async def check_completion(self, telegram_id: int, request_id: int, minutes: int) -> None:
        """Before asking for the report: the hours are valid and the request can complete."""
        check_minutes(minutes)
        request = await self._for_team(telegram_id, request_id)
        self._require_serving(request)

    async def complete(
        self,
        telegram_id: int,
        request_id: int,
        version: int,
        minutes: int,
        text: str,
        leader_name: str,
    ) -> tuple[ServiceRequest, int]:
        """Completed, with the hours and a short report. In the same transaction: the
        volunteers' service records (kind 'service', Art. 7 fields: the title, the day, the
        district as the place, the category and report as the content, the organization, the
        person in charge, the hours), their notices and the resident's rating request.
        Returns the request and how many records were written."""
        check_minutes(minutes)
        report = clean_report(text)
        request = await self._for_team(telegram_id, request_id)
        self._require_serving(request)
        category = await self._catalog.category(request.category_code)
        area = await self._catalog.area(request.area_code)
        organization = await self._staff.organization_for(telegram_id, request.organization_id or 0)
        now = self.now()
        async with self._db.transaction() as tx:
            changed = await RequestsRepository.change_in(
                tx, request_id,
                from_statuses=(RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE),
                version=version, now=now,
                status=RequestStatus.COMPLETED, completed_by=telegram_id, completed_at=now,
                minutes=minutes, report=report, closed_at=now,
            )  # fmt: skip
            if not changed:
                raise await self._why_not(tx, request_id, RequestRefusal.STALE)
            if request.service_mode is ServiceMode.ACTIVITY and request.activity_id is not None:
                served = await RequestsRepository.signed_up_in(tx, request.activity_id)
                await RequestsRepository.confirm_activity_hours_in(
                    tx, request.activity_id, telegram_id, now
                )
            else:
                served = await RequestsRepository.accepted_helpers_in(tx, request_id)
            content = category.name_zh if category is not None else request.category_code
            records = [
                NewHelperRecord(
                    volunteer_id=volunteer_id,
                    activity_id=request.activity_id
                    if request.service_mode is ServiceMode.ACTIVITY
                    else None,
                    organization_id=organization.organization_id,
                    title=_record_title(category, request_id),
                    service_date=now.astimezone(self._tz).date(),
                    place=area.name_zh if area is not None else request.area_code,
                    category_code=request.category_code,
                    content=f"{content}：{report}"[:200],
                    organization_name=organization.name,
                    leader_name=leader_name[:64] or None,
                    minutes=minutes,
                )
                for volunteer_id, _ in served
            ]
            written = await RequestsRepository.write_records_in(
                tx, request_id, records, telegram_id, now
            )
            await RequestsRepository.event_in(
                tx, request_id, "completed", now, actor=telegram_id,
                organization_id=request.organization_id, reason=f"{minutes} min, {written} records",
            )  # fmt: skip
            await self._notify(
                tx, NotificationKind.REQUEST_HOURS,
                [tid for _, tid in served if tid is not None], request_id,
                _subject(request_id, "hours"), now,
            )  # fmt: skip
            await self._tell_resident(tx, request, now, "completed")
        log.info("request %s completed by %s: %s records", request_id, telegram_id, written)
        return await self._fresh(request_id), written

    # ============================================================== volunteers asked

    async def helper_view(self, telegram_id: int, request_id: int) -> tuple[RequestView, Helper]:
        volunteer_id = await self._repo.volunteer_of(telegram_id)
        request = await self._get(request_id, telegram_id)
        helper = next(
            (h for h in await self._repo.helpers(request_id) if h.volunteer_id == volunteer_id),
            None,
        )
        if volunteer_id is None or helper is None:
            log.warning("user %s pressed on request %s without being asked", telegram_id,
                        request_id)  # fmt: skip
            raise RequestRefused(RequestRefusal.NOT_ASKED)
        return view_of(request, Viewer.HELPER), helper

    async def helper_answer(
        self, telegram_id: int, request_id: int, accept: bool
    ) -> tuple[RequestView, Helper]:
        view, helper = await self.helper_view(telegram_id, request_id)
        request = view.request
        if request.status not in (RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE):
            raise RequestRefused(RequestRefusal.STALE)
        now = self.now()
        status = HelperStatus.ACCEPTED if accept else HelperStatus.DECLINED
        async with self._db.transaction() as tx:
            if not await RequestsRepository.answer_in(
                tx, request_id, helper.volunteer_id, status, now
            ):
                raise RequestRefused(RequestRefusal.STALE)
            if request.organization_id is not None:
                members = await RequestsRepository.members_in(tx, request.organization_id)
                await self._notify(
                    tx, NotificationKind.REQUEST_HELPER_ANSWER, members, request_id,
                    _subject(request_id, "answer", helper.volunteer_id), now,
                    volunteer_id=helper.volunteer_id,
                )  # fmt: skip
        return await self.helper_view(telegram_id, request_id)

    async def helper_notice(
        self, telegram_id: int, request_id: int
    ) -> tuple[RequestView, Helper] | None:
        try:
            return await self.helper_view(telegram_id, request_id)
        except RequestRefused:
            return None

    async def helper_answer_notice(
        self, telegram_id: int, request_id: int, volunteer_id: int
    ) -> tuple[ServiceRequest, Helper] | None:
        """For the team's notice of a volunteer's answer."""
        try:
            request = await self._for_team(telegram_id, request_id)
        except RequestRefused:
            return None
        helper = next(
            (h for h in await self._repo.helpers(request_id) if h.volunteer_id == volunteer_id),
            None,
        )
        return (request, helper) if helper is not None else None

    async def withdrawn_notice(self, request_id: int) -> ServiceRequest | None:
        """For "request #N was cancelled": the number, category and district only."""
        request = await self._repo.get(request_id)
        return request if request is not None else None

    async def escalation_notice(self, telegram_id: int, request_id: int) -> ServiceRequest | None:
        if not await self._staff.is_admin(telegram_id):
            return None
        request = await self._repo.get(request_id)
        if request is None or request.status not in (
            RequestStatus.QUEUED,
            RequestStatus.DISPATCHED,
        ):
            return None
        return request

    # ============================================================== the periodic job

    async def tick(self) -> TickReport:
        """Reminders, re-dispatches, urgent escalations and masking. Idempotent: each step is
        a conditional UPDATE on a mark (reminded_at, the version, escalated_at, masked_at), so
        running it twice, or in two processes, acts once."""
        now = self.now()
        policy = self.policy
        reminded = redispatched = requeued = escalated = 0
        waiting = await self._repo.waiting(
            now - policy.accept_timeout, now - policy.urgent_escalation
        )
        admins = await self._repo.admins(self._admin_ids) if waiting else []
        for request in waiting:
            if escalation_due(request, now, policy.urgent_escalation):
                async with self._db.transaction() as tx:
                    if await RequestsRepository.change_in(
                        tx, request.request_id,
                        from_statuses=(RequestStatus.QUEUED, RequestStatus.DISPATCHED),
                        version=None, now=now, bump=False, unset="escalated_at", escalated_at=now,
                    ):  # fmt: skip
                        await RequestsRepository.event_in(tx, request.request_id, "escalated", now)
                        await self._notify(
                            tx, NotificationKind.REQUEST_ESCALATED, admins, request.request_id,
                            _subject(request.request_id, "escalated"), now,
                        )  # fmt: skip
                        escalated += 1
            action = timeout_action(request, now, policy.accept_timeout)
            if action is TimeoutAction.REMIND:
                async with self._db.transaction() as tx:
                    if await RequestsRepository.change_in(
                        tx, request.request_id, from_statuses=(RequestStatus.DISPATCHED,),
                        version=request.version, now=now, bump=False, unset="reminded_at",
                        reminded_at=now,
                    ):  # fmt: skip
                        assert request.organization_id is not None
                        members = await RequestsRepository.members_in(tx, request.organization_id)
                        await RequestsRepository.event_in(
                            tx, request.request_id, "reminded", now,
                            organization_id=request.organization_id,
                        )  # fmt: skip
                        await self._notify(
                            tx, NotificationKind.REQUEST_ACCEPT_REMINDER, members,
                            request.request_id,
                            _subject(request.request_id, "remind", request.dispatch_round), now,
                        )  # fmt: skip
                        reminded += 1
            elif action is TimeoutAction.REDISPATCH:
                moved = await self._redispatch(request, now)
                if moved is True:
                    redispatched += 1
                elif moved is False:
                    requeued += 1
        masked = len(await self._repo.mask_closed_before(now - MASK_AFTER, now))
        report = TickReport(reminded, redispatched, requeued, escalated, masked)
        if report.anything:
            log.info("requests job: %s", report)
        return report

    async def _redispatch(self, request: ServiceRequest, now: datetime) -> bool | None:
        """No answer after twice the timeout: to the next best organization (not one that
        declined or timed out), or back to the queue. ``True`` re-dispatched, ``False``
        re-queued, ``None`` someone else acted first."""
        async with self._db.transaction() as tx:
            current = await RequestsRepository.get_in(tx, request.request_id)
            if current is None or current.version != request.version:
                return None
            tried = await RequestsRepository.tried_organizations_in(tx, request.request_id)
            assert request.organization_id is not None
            exclude = tried | {request.organization_id}
            candidates = await RequestsRepository.org_candidates_in(
                tx.fetch_all, request.category_code
            )
            best = suggest_organizations(candidates, request.area_code, exclude=exclude, limit=1)
            if best:
                try:
                    await self._send_to(
                        tx, request, request.version, best[0].candidate.organization_id, None, now
                    )
                except RequestRefused:
                    return None
                # The old team is told by _send_to; the event counts against its acceptance.
                await RequestsRepository.event_in(
                    tx, request.request_id, "timeout", now, organization_id=request.organization_id
                )
                await self._back_to_dispatchers(tx, request, now, "redispatched")
                return True
            changed = await RequestsRepository.change_in(
                tx, request.request_id, from_statuses=(RequestStatus.DISPATCHED,),
                version=request.version, now=now, status=RequestStatus.QUEUED,
                organization_id=None, dispatched_at=None, reminded_at=None,
            )  # fmt: skip
            if not changed:
                return None
            await RequestsRepository.event_in(
                tx, request.request_id, "timeout", now, organization_id=request.organization_id
            )
            old_members = await RequestsRepository.members_in(tx, request.organization_id)
            await self._notify(
                tx, NotificationKind.REQUEST_WITHDRAWN, old_members, request.request_id,
                _subject(request.request_id, "timeout", request.dispatch_round), now,
            )  # fmt: skip
            await self._back_to_dispatchers(tx, request, now, "timeout")
            return False

    # ============================================================== numbers

    async def stats(self, since: datetime | None = None) -> RequestStats:
        """Time to dispatch, to accept, to complete and satisfaction, per centre (area) and
        team (organization). No authorization: for callers that checked (``/stats``)."""
        return request_stats(await self._repo.times(since))

    async def stats_for(self, telegram_id: int) -> RequestStats:
        """The numbers screen: dispatchers see their areas' centres (and the teams that served
        them), administrators everything."""
        areas = await self._require_dispatcher(telegram_id)
        rows = await self._repo.times()
        if areas is not None:
            rows = [row for row in rows if row.area_code in areas]
        return request_stats(rows)

    # ============================================================== internals

    async def _get(self, request_id: int, telegram_id: int) -> ServiceRequest:
        request = await self._repo.get(request_id)
        if request is None:
            log.warning("user %s pressed on request %s, which does not exist", telegram_id,
                        request_id)  # fmt: skip
            raise RequestRefused(RequestRefusal.NOT_FOUND)
        return request

    async def _fresh(self, request_id: int) -> ServiceRequest:
        request = await self._repo.get(request_id)
        assert request is not None
        return request

    @staticmethod
    async def _why_not(tx: Transaction, request_id: int, default: RequestRefusal) -> RequestRefused:
        """A conditional change did nothing: the request moved on (stale) or does not exist."""
        current = await RequestsRepository.get_in(tx, request_id)
        if current is None:
            return RequestRefused(RequestRefusal.NOT_FOUND)
        return RequestRefused(
            default if default is not RequestRefusal.STALE else RequestRefusal.STALE
        )

    async def _notify(
        self,
        tx: Transaction,
        kind: NotificationKind,
        recipients: Sequence[int],
        request_id: int,
        subject: str,
        now: datetime,
        **payload: int | str,
    ) -> None:
        await OutboxRepository.enqueue_many(
            tx,
            (
                Notification(
                    kind=kind,
                    telegram_id=recipient,
                    subject=subject,
                    payload={"request_id": request_id, **payload},
                    due_at=now,
                )
                for recipient in dict.fromkeys(recipients)
            ),
            now,
        )

    async def _tell_resident(
        self, tx: Transaction, request: ServiceRequest, now: datetime, change: object
    ) -> None:
        if request.resident_id is not None:
            await self._notify(
                tx, NotificationKind.REQUEST_STATUS, [request.resident_id], request.request_id,
                _subject(request.request_id, "status", change), now,
            )  # fmt: skip

    async def _back_to_dispatchers(
        self, tx: Transaction, request: ServiceRequest, now: datetime, why: str
    ) -> None:
        told = await RequestsRepository.dispatchers_in(tx, request.area_code)
        if not told:
            told = await self._repo.admins(self._admin_ids)
        await self._notify(
            tx, NotificationKind.REQUEST_RETURNED, told, request.request_id,
            _subject(request.request_id, why, request.dispatch_round), now, why=why,
        )  # fmt: skip


def _record_title(category: CatalogItem | None, request_id: int) -> str:
    """The record's and the activity's title, in Chinese like the record (Art. 7) itself."""
    name = category.name_zh if category is not None else "志愿服务"
    return f"{name}（居民点单 #{request_id}）"
