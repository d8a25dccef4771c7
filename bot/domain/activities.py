"""Organizations, activities and sign-ups: the records of the service menu (菜单式服务).

Activity fields cover what a service record needs later (民政部令第67号 Art. 7: 活动名称, 日期,
地点, 服务内容, 活动组织单位, 活动负责人). Times are aware UTC datetimes; the user's time zone is
applied only when rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class OrganizationType(StrEnum):
    ASSOCIATION = "association"  # 行业协会商会
    SOCIAL_ORG = "social_org"  # 社会组织
    COMMUNITY = "community"  # 社区/村
    SCHOOL = "school"  # 学校
    ENTERPRISE = "enterprise"  # 企业
    PUBLIC_INSTITUTION = "public_institution"  # 机关事业单位
    VOLUNTEER_TEAM = "volunteer_team"  # 志愿服务队


class OrganizationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Organization(BaseModel):
    model_config = ConfigDict(frozen=True)

    organization_id: int
    name: str
    org_type: OrganizationType
    area_code: str | None
    contact_name: str
    contact_phone: str
    description: str
    status: OrganizationStatus
    created_at: datetime


class NewOrganization(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    org_type: OrganizationType
    area_code: str | None = None
    contact_name: str
    contact_phone: str
    description: str = ""
    status: OrganizationStatus = OrganizationStatus.PENDING
    applied_by: int | None = None


class PeopleServed(StrEnum):
    """服务对象 from the seed texts."""

    ELDERLY_CHILDREN = "elderly_children"  # 一老一小
    DISABLED = "disabled"  # 残疾人
    LOW_INCOME = "low_income"  # 低收入人群
    LEFT_BEHIND_CHILDREN = "left_behind_children"  # 农村留守儿童
    EMPTY_NEST_ELDERLY = "empty_nest_elderly"  # 空巢老人
    NEW_EMPLOYMENT = "new_employment"  # 新就业群体


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class QualificationRef(BaseModel):
    """A qualification an activity grants or requires (Art. 8, 先培训再上岗): its id and name."""

    model_config = ConfigDict(frozen=True)

    qualification_id: int
    name: str


class NewActivity(BaseModel):
    """What an organizer publishes (validated by the publishing service; checked by storage)."""

    model_config = ConfigDict(frozen=True)

    organization_id: int
    title: str
    category_code: str
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    place: str
    area_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    capacity: int = Field(ge=1, le=10_000)
    required_skills: tuple[str, ...] = ()
    training_required: bool = False
    adults_only: bool = False
    people_served: tuple[PeopleServed, ...] = ()
    signup_deadline: datetime | None = None
    key_date: str | None = None
    leader_name: str | None = None
    status: ActivityStatus = ActivityStatus.PUBLISHED
    created_by: int | None = None
    #: Art. 19: an activity that is not volunteer service is not recorded.
    is_volunteering: bool = True
    #: A training grants this qualification on completion; an activity may require one.
    grants_qualification_id: int | None = None
    requires_qualification_id: int | None = None


class Activity(BaseModel):
    model_config = ConfigDict(frozen=True)

    activity_id: int
    organization_id: int
    organization_name: str
    title: str
    category_code: str
    description: str
    starts_at: datetime
    ends_at: datetime
    place: str
    area_code: str | None
    latitude: float | None
    longitude: float | None
    capacity: int
    required_skills: tuple[str, ...]
    training_required: bool
    adults_only: bool
    people_served: tuple[PeopleServed, ...]
    signup_deadline: datetime | None
    signups_closed_at: datetime | None
    key_date: str | None
    leader_name: str | None
    status: ActivityStatus
    cancel_reason: str | None
    confirmed_count: int
    offered_count: int
    waitlist_count: int
    created_at: datetime
    updated_at: datetime
    is_volunteering: bool = True
    grants_qualification: QualificationRef | None = None
    requires_qualification: QualificationRef | None = None

    @property
    def taken(self) -> int:
        """Spots that are not free: confirmed sign-ups and spots held for an offer."""
        return self.confirmed_count + self.offered_count

    @property
    def spots_left(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def is_full(self) -> bool:
        return self.spots_left == 0

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def signup_closes_at(self) -> datetime:
        """Sign-up closes at the start, or earlier at the organizer's deadline or early close."""
        # The earliest of the three, spelled out: matching asks it of every candidate.
        closes = self.starts_at
        if self.signup_deadline is not None and self.signup_deadline < closes:
            closes = self.signup_deadline
        if self.signups_closed_at is not None and self.signups_closed_at < closes:
            closes = self.signups_closed_at
        return closes

    def is_open_for_signup(self, now: datetime) -> bool:
        return self.status is ActivityStatus.PUBLISHED and now < self.signup_closes_at


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a spot is held for this waitlisted volunteer until the deadline
    CANCELLED = "cancelled"


ACTIVE_SIGNUP_STATUSES = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.OFFERED)


class EndReason(StrEnum):
    VOLUNTEER = "volunteer"  # the volunteer cancelled
    DECLINED_OFFER = "declined_offer"
    OFFER_EXPIRED = "offer_expired"
    ACTIVITY_CANCELLED = "activity_cancelled"
    ORGANIZER = "organizer"  # removed by the organizer


class Signup(BaseModel):
    model_config = ConfigDict(frozen=True)

    signup_id: int
    activity_id: int
    volunteer_id: int
    status: SignupStatus
    created_at: datetime
    status_at: datetime
    queued_at: datetime | None
    offer_expires_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None
    cancel_note: str | None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_SIGNUP_STATUSES


class MySignup(BaseModel):
    """A line of "My sign-ups": the sign-up, its activity and, when waiting, the position."""

    model_config = ConfigDict(frozen=True)

    signup: Signup
    activity: Activity
    waitlist_position: int | None = None


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill; an empty list is one empty page."""
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int) -> int:
    """``page`` within the first and the last page: a stale "next" after the list shrank (or a
    forged page number) shows the last page."""
    return max(0, min(page, page_count(total, page_size) - 1))


class Paged(BaseModel):
    """Where one page stands in a list (the page itself is in the subclass)."""

    model_config = ConfigDict(frozen=True)

    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.page_size)

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


class Page(Paged):
    """One page of a list of activities."""

    items: tuple[Activity, ...]


class MemberRole(StrEnum):
    MANAGER = "manager"  # may also invite and remove co-organizers
    ORGANIZER = "organizer"


class ActivityTab(StrEnum):
    UPCOMING = "u"  # published, not finished yet, soonest first
    PAST = "p"  # finished or cancelled, latest first
    DRAFTS = "d"  # saved but never published (status 'draft'), latest first


@dataclass(frozen=True)
class ManageDraft:
    """A staff action being typed (a cancellation reason, a message, a new date)."""

    telegram_id: int
    action: str  # 'cancel', 'message' or 'duplicate'
    activity_id: int
    body: str | None
    audience: str | None
