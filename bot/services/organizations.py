"""Organizations: applying for one, the administrators' decisions, co-organizers and the admin
panel's writes (appointed administrators, the reference lists).

Every method that changes something takes the acting user's id and re-checks, here on the
server, that this user may do it (:class:`~bot.services.staff.StaffService`): handlers pass on
client input (callback data), which can be forged or replayed.

The application is a small wizard whose draft lives in ``organization_drafts``:

```mermaid
stateDiagram-v2
    [*] --> name
    name --> type --> area --> contact --> phone --> description --> review
    review --> name: edit a field (then straight back to review)
    review --> pending: submit (administrators are notified)
    pending --> approved: an administrator approves (applicant becomes manager)
    pending --> rejected: an administrator rejects with a reason
    approved --> suspended: suspend with a reason
    suspended --> approved: reinstate
```
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Set
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.clock import Clock
from bot.domain.activities import (
    MemberRole,
    NewOrganization,
    Organization,
    OrganizationStatus,
    OrganizationType,
)
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.domain.users import Role, User
from bot.domain.validation import (
    InvalidInput,
    clean_free_text,
    normalize_phone,
    normalize_real_name,
)
from bot.domain.volunteers import CODE_PATTERN, CatalogItem, CatalogKind
from bot.i18n import N_
from bot.services.staff import StaffRefusal, StaffRefused, StaffService
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import Member, OrganizationDetails, OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.users import UsersRepository

__all__ = [
    "AlreadyDecided",
    "ApplicationData",
    "ApplicationDraft",
    "ApplicationStep",
    "OrgRefusal",
    "OrgRefused",
    "OrganizationAdminService",
]

NAME_MIN: Final = 2
NAME_MAX: Final = 60
DESCRIPTION_MIN: Final = 10
DESCRIPTION_MAX: Final = 500
REASON_MIN: Final = 2
REASON_MAX: Final = 300
ITEM_NAME_MAX: Final = 40
PAGE_SIZE: Final = 8

INVITE_CODE_BYTES: Final = 18  # 144 random bits → 24 URL-safe characters

# Input messages (English msgids; the handlers translate them).
APPOINT_FORMAT: Final = N_(
    "Please send a Telegram user id (digits, e.g. 123456789) or an @username."
)
APPOINT_UNKNOWN: Final = N_(
    "Nobody with that id or username has used this bot yet. Ask them to send /start first."
)
ITEM_FORMAT: Final = N_(
    "Please send three parts separated by “|”: code | 中文名 | English name, for example "
    "first_aid | 急救 | First aid."
)
RENAME_FORMAT: Final = N_(
    "Please send two parts separated by “|”: 中文名 | English name, for example 急救 | First aid."
)
CODE_FORMAT: Final = N_(
    "The code must be 1–32 characters: a lowercase letter first, then lowercase letters, "
    "digits or “_”."
)


class ApplicationStep(StrEnum):
    NAME = "name"
    TYPE = "type"
    AREA = "area"
    CONTACT = "contact"
    PHONE = "phone"
    DESCRIPTION = "description"
    REVIEW = "review"


_ORDER: Final = tuple(ApplicationStep)


class ApplicationData(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None = None
    org_type: OrganizationType | None = None
    area_code: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    description: str | None = None
    # Set once the review screen was reached: an answer then leads back to the review.
    reviewed: bool = False


class ApplicationDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: ApplicationStep
    data: ApplicationData


class OrgRefusal(StrEnum):
    NO_DRAFT = "no_draft"
    WRONG_STEP = "wrong_step"
    INCOMPLETE = "incomplete"
    PENDING_EXISTS = "pending_exists"
    NOT_PENDING = "not_pending"  # suspend/reinstate from the wrong state
    LAST_MANAGER = "last_manager"
    NOT_MEMBER = "not_member"
    ALREADY_MEMBER = "already_member"
    INVITE_UNKNOWN = "invite_unknown"
    INVITE_EXPIRED = "invite_expired"
    INVITE_USED = "invite_used"
    ORG_NOT_ACTIVE = "org_not_active"
    FIXED_ADMIN = "fixed_admin"
    SELF = "self"
    ALREADY_ADMIN = "already_admin"
    NOT_ADMIN = "not_admin"
    CODE_TAKEN = "code_taken"
    NO_ITEM = "no_item"


class OrgRefused(Refused):
    def __init__(self, reason: OrgRefusal, organization: Organization | None = None) -> None:
        super().__init__(reason)
        self.reason: OrgRefusal = reason
        self.organization = organization


class AlreadyDecided(Exception):
    """Another administrator decided this application first."""

    def __init__(self, details: OrganizationDetails, decided_by: User | None) -> None:
        super().__init__(details.organization.status.value)
        self.details = details
        self.decided_by = decided_by


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


_USER_ID = re.compile(r"\d{1,15}")
_USERNAME = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{3,31})")


class OrganizationAdminService:
    def __init__(
        self,
        db: Database,
        organizations: OrganizationsRepository,
        users: UsersRepository,
        catalog: CatalogRepository,
        staff: StaffService,
        clock: Clock,
        admin_ids: Set[int],
        invite_ttl: timedelta,
    ) -> None:
        self._db = db
        self._organizations = organizations
        self._users = users
        self._catalog = catalog
        self._staff = staff
        self._clock = clock
        self._admin_ids = admin_ids
        self.invite_ttl = invite_ttl

    # ------------------------------------------------------------------------- application

    async def pending_application(self, telegram_id: int) -> Organization | None:
        found = await self._organizations.applications_of(telegram_id, [OrganizationStatus.PENDING])
        return found[0] if found else None

    async def suspended_memberships(self, telegram_id: int) -> list[OrganizationDetails]:
        found = []
        for organization_id, _ in await self._organizations.memberships(telegram_id):
            details = await self._organizations.details(organization_id)
            if details and details.organization.status is OrganizationStatus.SUSPENDED:
                found.append(details)
        return found

    async def begin(self, telegram_id: int) -> ApplicationDraft:
        """The person's draft, or a new one at the first step."""
        draft = await self._load(telegram_id)
        if draft is not None:
            return draft
        draft = ApplicationDraft(step=ApplicationStep.NAME, data=ApplicationData())
        await self._save(telegram_id, draft)
        return draft

    async def current(self, telegram_id: int) -> ApplicationDraft:
        draft = await self._load(telegram_id)
        if draft is None:
            raise OrgRefused(OrgRefusal.NO_DRAFT)
        return draft

    async def discard(self, telegram_id: int) -> None:
        await self._organizations.delete_draft(telegram_id)

    async def set_name(self, telegram_id: int, text: str) -> ApplicationDraft:
        name = clean_free_text(text, min_length=NAME_MIN, max_length=NAME_MAX)
        return await self._answer(telegram_id, ApplicationStep.NAME, name=name)

    async def set_type(self, telegram_id: int, value: str) -> ApplicationDraft:
        try:
            org_type = OrganizationType(value)
        except ValueError:
            raise OrgRefused(OrgRefusal.WRONG_STEP) from None
        return await self._answer(telegram_id, ApplicationStep.TYPE, org_type=org_type)

    async def set_area(self, telegram_id: int, code: str) -> ApplicationDraft:
        area = await self._catalog.area(code)
        if area is None or not area.is_active:
            raise OrgRefused(OrgRefusal.WRONG_STEP)
        return await self._answer(telegram_id, ApplicationStep.AREA, area_code=area.code)

    async def set_contact(self, telegram_id: int, text: str) -> ApplicationDraft:
        name = normalize_real_name(text)
        return await self._answer(telegram_id, ApplicationStep.CONTACT, contact_name=name)

    async def set_phone(self, telegram_id: int, text: str) -> ApplicationDraft:
        phone = normalize_phone(text)
        return await self._answer(telegram_id, ApplicationStep.PHONE, contact_phone=phone)

    async def set_description(self, telegram_id: int, text: str) -> ApplicationDraft:
        description = clean_free_text(
            text, min_length=DESCRIPTION_MIN, max_length=DESCRIPTION_MAX, multiline=True
        )
        return await self._answer(telegram_id, ApplicationStep.DESCRIPTION, description=description)

    async def back(self, telegram_id: int, seen: ApplicationStep) -> ApplicationDraft:
        """Back from the step ``seen`` (the one whose screen showed the button); a form that
        has moved on since refuses with ``WRONG_STEP`` instead of going back from elsewhere."""
        draft = await self.current(telegram_id)
        if draft.step is not seen:
            raise OrgRefused(OrgRefusal.WRONG_STEP)
        if draft.data.reviewed or draft.step is ApplicationStep.NAME:
            step = ApplicationStep.REVIEW if draft.data.reviewed else ApplicationStep.NAME
        else:
            step = _ORDER[_ORDER.index(draft.step) - 1]
        draft = draft.model_copy(update={"step": step})
        await self._save(telegram_id, draft)
        return draft

    async def edit(self, telegram_id: int, step: ApplicationStep) -> ApplicationDraft:
        draft = await self.current(telegram_id)
        if draft.step is not ApplicationStep.REVIEW or step is ApplicationStep.REVIEW:
            raise OrgRefused(OrgRefusal.WRONG_STEP)
        draft = draft.model_copy(update={"step": step})
        await self._save(telegram_id, draft)
        return draft

    async def submit(self, telegram_id: int) -> Organization:
        """Store the organization as pending and notify every administrator."""
        draft = await self.current(telegram_id)
        data = draft.data
        if draft.step is not ApplicationStep.REVIEW:
            raise OrgRefused(OrgRefusal.WRONG_STEP)
        if await self.pending_application(telegram_id) is not None:
            raise OrgRefused(OrgRefusal.PENDING_EXISTS)
        if (
            data.name is None
            or data.org_type is None
            or data.contact_name is None
            or data.contact_phone is None
        ):
            raise OrgRefused(OrgRefusal.INCOMPLETE)
        now = self._clock()
        admins = await self.admin_ids()
        async with self._db.transaction() as tx:
            # The draft is the guard: a second press (here or in another process) finds it
            # gone and creates nothing, instead of filing the application twice.
            if not await OrganizationsRepository.delete_draft_in(tx, telegram_id):
                raise OrgRefused(OrgRefusal.PENDING_EXISTS)
            organization = await OrganizationsRepository.create_in(
                tx,
                NewOrganization(
                    name=data.name,
                    org_type=data.org_type,
                    area_code=data.area_code,
                    contact_name=data.contact_name,
                    contact_phone=data.contact_phone,
                    description=data.description or "",
                    status=OrganizationStatus.PENDING,
                    applied_by=telegram_id,
                ),
                now,
            )
            for admin_id in admins:
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.ORG_APPLICATION,
                        telegram_id=admin_id,
                        subject=f"org:{organization.organization_id}",
                        payload={"organization_id": organization.organization_id},
                        due_at=now,
                    ),
                    now,
                )
        return organization

    async def _answer(
        self, telegram_id: int, step: ApplicationStep, **answer: object
    ) -> ApplicationDraft:
        draft = await self.current(telegram_id)
        if draft.step is not step:
            raise OrgRefused(OrgRefusal.WRONG_STEP)
        data = draft.data.model_copy(update=answer)
        following = ApplicationStep.REVIEW if data.reviewed else _ORDER[_ORDER.index(step) + 1]
        if following is ApplicationStep.REVIEW:
            data = data.model_copy(update={"reviewed": True})
        draft = ApplicationDraft(step=following, data=data)
        await self._save(telegram_id, draft)
        return draft

    async def _load(self, telegram_id: int) -> ApplicationDraft | None:
        row = await self._organizations.draft(telegram_id)
        if row is None:
            return None
        try:
            return ApplicationDraft(
                step=ApplicationStep(row.step),
                data=ApplicationData.model_validate(json.loads(row.data)),
            )
        except (ValueError, ValidationError):
            # Written by an older version: start again rather than fail on every message.
            return None

    async def _save(self, telegram_id: int, draft: ApplicationDraft) -> None:
        await self._organizations.save_draft(
            telegram_id, draft.step.value, draft.data.model_dump_json(), self._clock()
        )

    # ---------------------------------------------------------------------- administrators

    async def admin_ids(self) -> list[int]:
        """``ADMIN_IDS`` and the appointed administrators."""
        appointed = {user.telegram_id for user in await self._users.list_by_role(Role.ADMIN)}
        return sorted(set(self._admin_ids) | appointed)

    def is_fixed_admin(self, telegram_id: int) -> bool:
        return telegram_id in self._admin_ids

    async def admins(self, actor: int) -> list[tuple[int, User | None]]:
        await self._staff.require_admin(actor)
        return [(admin_id, await self._users.get(admin_id)) for admin_id in await self.admin_ids()]

    async def appoint_admin(self, actor: int, reference: str) -> User:
        """Make someone who has used the bot an administrator (by user id or @username)."""
        await self._staff.require_admin(actor)
        text = reference.strip()
        target: int | None
        if _USER_ID.fullmatch(text):
            target = int(text)
        elif match := _USERNAME.fullmatch(text):
            target = await self._organizations.user_id_by_username(match.group(1))
        else:
            raise InvalidInput(APPOINT_FORMAT)
        user = await self._users.get(target) if target is not None else None
        if user is None:
            raise InvalidInput(APPOINT_UNKNOWN)
        if user.role is Role.ADMIN or self.is_fixed_admin(user.telegram_id):
            raise OrgRefused(OrgRefusal.ALREADY_ADMIN)
        updated = await self._users.set_role(user.telegram_id, Role.ADMIN)
        return updated or user

    async def remove_admin(self, actor: int, target: int) -> User:
        await self._staff.require_admin(actor)
        if self.is_fixed_admin(target):
            raise OrgRefused(OrgRefusal.FIXED_ADMIN)
        if target == actor:
            raise OrgRefused(OrgRefusal.SELF)
        user = await self._users.get(target)
        if user is None or user.role is not Role.ADMIN:
            raise OrgRefused(OrgRefusal.NOT_ADMIN)
        updated = await self._users.set_role(target, Role.VOLUNTEER)
        return updated or user

    # ------------------------------------------------------------------------- decisions

    async def application(self, actor: int, organization_id: int) -> OrganizationDetails:
        await self._staff.require_admin(actor)
        details = await self._organizations.details(organization_id)
        if details is None:
            raise StaffRefused(StaffRefusal.NOT_FOUND)
        return details

    async def pending_applications(
        self, actor: int, page: int = 0
    ) -> tuple[list[Organization], int]:
        await self._staff.require_admin(actor)
        return await self._organizations.list_by_status(
            [OrganizationStatus.PENDING], offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE
        )

    async def organizations(self, actor: int, page: int = 0) -> tuple[list[Organization], int]:
        await self._staff.require_admin(actor)
        return await self._organizations.list_by_status(
            [OrganizationStatus.APPROVED, OrganizationStatus.SUSPENDED],
            offset=max(page, 0) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )

    async def ensure_pending(self, actor: int, organization_id: int) -> OrganizationDetails:
        """Before asking for a rejection reason: still undecided?"""
        details = await self.application(actor, organization_id)
        if details.organization.status is not OrganizationStatus.PENDING:
            raise await self._already(details)
        return details

    async def approve(self, actor: int, organization_id: int) -> Organization:
        return await self._decide(actor, organization_id, OrganizationStatus.APPROVED, None)

    async def reject(self, actor: int, organization_id: int, reason: str) -> Organization:
        cleaned = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        return await self._decide(actor, organization_id, OrganizationStatus.REJECTED, cleaned)

    async def _decide(
        self,
        actor: int,
        organization_id: int,
        status: OrganizationStatus,
        reason: str | None,
    ) -> Organization:
        details = await self.application(actor, organization_id)
        now = self._clock()
        async with self._db.transaction() as tx:
            changed = await OrganizationsRepository.change_status_in(
                tx,
                organization_id,
                expected=OrganizationStatus.PENDING,
                status=status,
                by=actor,
                reason=reason,
                now=now,
            )
            if changed and details.applied_by is not None:
                if status is OrganizationStatus.APPROVED:
                    await OrganizationsRepository.add_member_in(
                        tx, organization_id, details.applied_by, MemberRole.MANAGER, now
                    )
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.ORG_DECISION,
                        telegram_id=details.applied_by,
                        subject=f"org:{organization_id}:{status.value}",
                        payload={"organization_id": organization_id, "decision": status.value},
                        due_at=now,
                    ),
                    now,
                )
        if not changed:
            fresh = await self._organizations.details(organization_id)
            raise await self._already(fresh or details)
        return details.organization.model_copy(update={"status": status})

    async def _already(self, details: OrganizationDetails) -> AlreadyDecided:
        decided_by = (
            await self._users.get(details.decided_by) if details.decided_by is not None else None
        )
        return AlreadyDecided(details, decided_by)

    async def suspend(self, actor: int, organization_id: int, reason: str) -> Organization:
        cleaned = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        return await self._move(
            actor,
            organization_id,
            OrganizationStatus.APPROVED,
            OrganizationStatus.SUSPENDED,
            cleaned,
        )

    async def reinstate(self, actor: int, organization_id: int) -> Organization:
        return await self._move(
            actor, organization_id, OrganizationStatus.SUSPENDED, OrganizationStatus.APPROVED, None
        )

    async def ensure_status(
        self, actor: int, organization_id: int, status: OrganizationStatus
    ) -> OrganizationDetails:
        details = await self.application(actor, organization_id)
        if details.organization.status is not status:
            raise OrgRefused(OrgRefusal.NOT_PENDING, details.organization)
        return details

    async def _move(
        self,
        actor: int,
        organization_id: int,
        expected: OrganizationStatus,
        status: OrganizationStatus,
        reason: str | None,
    ) -> Organization:
        details = await self.application(actor, organization_id)
        members = await self._organizations.member_ids(organization_id)
        now = self._clock()
        async with self._db.transaction() as tx:
            changed = await OrganizationsRepository.change_status_in(
                tx,
                organization_id,
                expected=expected,
                status=status,
                by=actor,
                reason=reason,
                now=now,
            )
            # Members learn why their tools vanished (or came back) instead of finding out on
            # their next press. The time in the subject keeps a later suspension a new notice.
            for telegram_id in members if changed else []:
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.ORG_DECISION,
                        telegram_id=telegram_id,
                        subject=f"org:{organization_id}:{status.value}:{now.isoformat()}",
                        payload={
                            "organization_id": organization_id,
                            "decision": status.value,
                            "audience": "members",
                        },
                        due_at=now,
                    ),
                    now,
                )
        if not changed:
            raise OrgRefused(OrgRefusal.NOT_PENDING, details.organization)
        return details.organization.model_copy(update={"status": status})

    # ------------------------------------------------------------------------ co-organizers

    async def members(self, actor: int, organization_id: int) -> tuple[Organization, list[Member]]:
        organization = await self._staff.organization_for(actor, organization_id, manager=True)
        return organization, await self._organizations.members(organization_id)

    async def create_invite(self, actor: int, organization_id: int) -> tuple[str, datetime]:
        """A new one-time code (shown once, stored hashed) and when it expires."""
        await self._staff.organization_for(actor, organization_id, manager=True)
        code = secrets.token_urlsafe(INVITE_CODE_BYTES)
        now = self._clock()
        expires_at = now + self.invite_ttl
        await self._organizations.create_invite(
            hash_code(code), organization_id, actor, now, expires_at
        )
        return code, expires_at

    async def invite_target(self, telegram_id: int, code: str) -> Organization:
        """The organization an invitation leads to, if it can still be used by this person."""
        invite = await self._organizations.invite(hash_code(code))
        if invite is None:
            raise OrgRefused(OrgRefusal.INVITE_UNKNOWN)
        organization = await self._organizations.get(invite.organization_id)
        if organization is None:
            raise OrgRefused(OrgRefusal.INVITE_UNKNOWN)
        if await self._organizations.membership(invite.organization_id, telegram_id):
            raise OrgRefused(OrgRefusal.ALREADY_MEMBER, organization)
        if invite.used_at is not None:
            raise OrgRefused(OrgRefusal.INVITE_USED, organization)
        if invite.expires_at <= self._clock():
            raise OrgRefused(OrgRefusal.INVITE_EXPIRED, organization)
        if organization.status is not OrganizationStatus.APPROVED:
            raise OrgRefused(OrgRefusal.ORG_NOT_ACTIVE, organization)
        return organization

    async def accept_invite(self, telegram_id: int, code: str) -> Organization:
        organization = await self.invite_target(telegram_id, code)
        now = self._clock()
        async with self._db.transaction() as tx:
            taken = await OrganizationsRepository.take_invite_in(
                tx, hash_code(code), telegram_id, now
            )
            if taken:
                await OrganizationsRepository.add_member_in(
                    tx, organization.organization_id, telegram_id, MemberRole.ORGANIZER, now
                )
        if not taken:
            # Someone else used it, it expired, the organization was suspended or this person
            # joined meanwhile: the fresh checks name which; otherwise it was used.
            organization = await self.invite_target(telegram_id, code)
            raise OrgRefused(OrgRefusal.INVITE_USED, organization)
        return organization

    async def remove_member(self, actor: int, organization_id: int, target: int) -> Member:
        _, members = await self.members(actor, organization_id)
        member = next((m for m in members if m.telegram_id == target), None)
        if member is None:
            raise OrgRefused(OrgRefusal.NOT_MEMBER)
        if not await self._organizations.remove_member(organization_id, target, by=actor):
            # Decided in the statement; say why from a fresh read: the actor stopped being a
            # manager (refused by the staff check), the target left, or was the last manager.
            await self._staff.organization_for(actor, organization_id, manager=True)
            if await self._organizations.membership(organization_id, target) is None:
                raise OrgRefused(OrgRefusal.NOT_MEMBER)
            raise OrgRefused(OrgRefusal.LAST_MANAGER)
        return member

    # ------------------------------------------------------------------------- reference lists

    async def catalog_items(self, actor: int, kind: CatalogKind) -> list[CatalogItem]:
        await self._staff.require_admin(actor)
        return await self._catalog.items(kind, include_inactive=True)

    async def catalog_item(self, actor: int, kind: CatalogKind, code: str) -> CatalogItem:
        await self._staff.require_admin(actor)
        item = await self._catalog.get(kind, code)
        if item is None:
            raise OrgRefused(OrgRefusal.NO_ITEM)
        return item

    async def add_catalog_item(self, actor: int, kind: CatalogKind, text: str) -> CatalogItem:
        """``code | 中文名 | English name`` (also one part per line)."""
        await self._staff.require_admin(actor)
        parts = _parts(text, 3, ITEM_FORMAT)
        code = parts[0].lower()
        if CODE_PATTERN.fullmatch(code) is None:
            raise InvalidInput(CODE_FORMAT)
        item = CatalogItem(code=code, name_zh=parts[1], name_en=parts[2])
        if not await self._catalog.add(kind, item):
            raise OrgRefused(OrgRefusal.CODE_TAKEN)
        added = await self._catalog.get(kind, code)
        return added or item

    async def rename_catalog_item(
        self, actor: int, kind: CatalogKind, code: str, text: str
    ) -> CatalogItem:
        await self._staff.require_admin(actor)
        name_zh, name_en = _parts(text, 2, RENAME_FORMAT)
        if not await self._catalog.rename(kind, code, name_zh, name_en):
            raise OrgRefused(OrgRefusal.NO_ITEM)
        return await self.catalog_item(actor, kind, code)

    async def set_catalog_item_active(
        self, actor: int, kind: CatalogKind, code: str, active: bool
    ) -> CatalogItem:
        await self._staff.require_admin(actor)
        if not await self._catalog.set_active(kind, code, active):
            raise OrgRefused(OrgRefusal.NO_ITEM)
        return await self.catalog_item(actor, kind, code)


def _parts(text: str, count: int, message: str) -> list[str]:
    """Split an admin's one-message answer on ``|`` (or on line breaks)."""
    raw = text.split("|") if "|" in text else text.splitlines()
    if len(raw) != count:
        raise InvalidInput(message)
    return [clean_free_text(part, min_length=1, max_length=ITEM_NAME_MAX) for part in raw]
