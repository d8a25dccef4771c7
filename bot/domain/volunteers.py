"""Volunteers: the registration draft, the profile and its reference lists.

Fields follow 民政部令第67号 Art. 5 (姓名, 性别, 出生日期, 身份证件号码, 居住区域, 联系方式,
专业技能, 服务类别), kept to what matching needs. The ID number is optional (``REQUIRE_ID_NUMBER``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import IntFlag, StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNDISCLOSED = "undisclosed"


class Slot(IntFlag):
    """Availability grid: weekday/weekend × morning/afternoon/evening, stored as a bitmask."""

    WEEKDAY_MORNING = 1
    WEEKDAY_AFTERNOON = 2
    WEEKDAY_EVENING = 4
    WEEKEND_MORNING = 8
    WEEKEND_AFTERNOON = 16
    WEEKEND_EVENING = 32


ALL_SLOTS = Slot(63)


class VolunteerGroup(StrEnum):
    """Optional self-identified groups (志愿者队伍), used for campaigns and statistics."""

    PARTY_MEMBER = "party_member"  # 党员
    YOUTH = "youth"  # 青年
    WOMEN = "women"  # 巾帼
    COMMUNITY = "community"  # 社区
    WORKER = "worker"  # 职工
    VETERAN = "veteran"  # 退役军人
    STUDENT = "student"  # 学生
    SENIOR = "senior"  # 老年


class CatalogItem(BaseModel):
    """An entry of an admin-editable list (skills, service categories, areas)."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_zh: str
    name_en: str
    sort_order: int = 0
    is_active: bool = True

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


class RegistrationStep(StrEnum):
    CONSENT = "consent"
    NAME = "name"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    GENDER = "gender"
    BIRTH_DATE = "birth_date"
    GUARDIAN = "guardian"
    AREA = "area"
    SKILLS = "skills"
    CATEGORIES = "categories"
    AVAILABILITY = "availability"
    GROUPS = "groups"
    REVIEW = "review"


class DraftData(BaseModel):
    """Answers given so far. Every field is optional until the review step confirms."""

    consent_version: str | None = None
    consent_at: datetime | None = None
    real_name: str | None = None
    phone: str | None = None  # E.164
    id_number: str | None = None
    gender: Gender | None = None
    gender_answered: bool = False  # skipping is an answer too
    birth_date: date | None = None
    birth_year: int | None = None  # picker progress: year chosen, month not yet
    birth_month: int | None = None
    guardian_consent_at: datetime | None = None
    area_code: str | None = None
    area_text: str | None = None
    skills: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    availability: int = 0
    groups: list[str] = Field(default_factory=list)


class RegistrationDraft(BaseModel):
    telegram_id: int
    step: RegistrationStep
    # Set when a field is edited from the review screen (or the profile): after it, go back there.
    return_to_review: bool = False
    data: DraftData
    updated_at: datetime


class NotificationSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    reminders: bool = True
    campaigns: bool = True
    digest: bool = True
    invitations: bool = True
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)


class VolunteerProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Service records (sign-ups, hours) refer to this id, never to the Telegram id, so that
    # deleting an account can unlink and anonymize a volunteer while statistics stay right.
    volunteer_id: int
    telegram_id: int
    real_name: str
    phone: str
    id_number: str | None
    gender: Gender | None
    birth_date: date
    is_minor: bool
    guardian_consent_at: datetime | None
    area_code: str | None
    area_text: str | None
    skills: tuple[str, ...]
    categories: tuple[str, ...]
    availability: int
    groups: tuple[str, ...]
    consent_version: str
    consent_at: datetime
    registered_at: datetime
    updated_at: datetime
    paused_until: date | None
    notifications: NotificationSettings

    def is_paused_on(self, day: date) -> bool:
        """Paused that (local) day: no sign-ups, invitations or campaigns; active again on
        ``paused_until`` itself."""
        return self.paused_until is not None and self.paused_until > day


class DeletionReport(BaseModel):
    """What deleting an account erased and what it kept (told to the user, written to the log).

    The profile is not removed but anonymized: service records refer to ``volunteer_id``, and
    the kept fields (no name, contact, ID number, birth date or Telegram id) feed statistics only.
    """

    model_config = ConfigDict(frozen=True)

    telegram_id: int
    user_deleted: bool  # the ``users`` row (name, username, language, role ...)
    draft_deleted: bool
    state_rows_deleted: int  # the bot's state about them: the flow owning input, browsing
    kept_anonymized_record: bool
    volunteer_id: int | None  # the anonymized record's id, ``None`` if there was no profile
    erased_fields: tuple[str, ...] = ()  # profile fields that were cleared
    kept_fields: tuple[str, ...] = ()  # what the anonymized record still holds


class CatalogKind(StrEnum):
    SKILL = "skill"
    CATEGORY = "category"
    AREA = "area"


#: Codes of catalog entries (skills, categories, areas): chosen by administrators.
CODE_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
