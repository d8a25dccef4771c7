"""Demo data for the playground, manual testing and benchmarks: ``zhiyuan demo-data``.

A believable slice of a city's volunteer federation (长沙市): organizations of different types,
about 30 activities over the coming weeks and around the next key date (12·5 International
Volunteer Day), a few dozen volunteers with profiles, sign-ups and a full activity with a
waitlist. Everything is written through the same repositories and services the bot uses, so the
data obeys every rule (capacity, counters, consent records).

The playground's personas are real users of this data: a registered volunteer, an organizer
(member of an approved organization) and an administrator in each language, plus a new visitor
who has never used the bot.
"""

from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.domain.activities import (
    MemberRole,
    NewActivity,
    NewOrganization,
    Organization,
    OrganizationStatus,
    OrganizationType,
    PeopleServed,
)
from bot.domain.checkin import CheckMethod
from bot.domain.users import TelegramIdentity
from bot.domain.volunteers import DraftData, Slot, VolunteerProfile
from bot.services.signups import SignupRefused, SignupService
from storage.activities import ActivitiesRepository
from storage.attendance import AttendanceRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.service_records import NewRecord, ServiceRecordsRepository
from storage.signups import SignupsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_CONSENT_VERSION = "demo"


@dataclass(frozen=True)
class Persona:
    key: str
    telegram_id: int
    first_name: str
    language_code: str  # as a Telegram client sends it
    phone_number: str  # as Telegram shares a contact: digits, no "+"
    role: str  # "visitor" | "volunteer" | "organizer" | "admin"


PERSONAS: tuple[Persona, ...] = (
    Persona("visitor-zh", 7001, "小新", "zh-hans", "8613800007001", "visitor"),
    Persona("visitor-en", 7002, "Nina", "en", "8613800007002", "visitor"),
    Persona("volunteer-zh", 7101, "王芳", "zh-hans", "8613800007101", "volunteer"),
    Persona("volunteer-en", 7102, "Tom", "en", "8613800007102", "volunteer"),
    Persona("organizer-zh", 7201, "李老师", "zh-hans", "8613800007201", "organizer"),
    Persona("organizer-en", 7202, "Grace", "en", "8613800007202", "organizer"),
    Persona("admin-zh", 7301, "陈主任", "zh-hans", "8613800007301", "admin"),
    Persona("admin-en", 7302, "Alex", "en", "8613800007302", "admin"),
)
ADMIN_IDS: frozenset[int] = frozenset(p.telegram_id for p in PERSONAS if p.role == "admin")

AREA_NAMES: dict[str, str] = {
    "furong": "芙蓉区",
    "tianxin": "天心区",
    "yuelu": "岳麓区",
    "kaifu": "开福区",
    "yuhua": "雨花区",
    "wangcheng": "望城区",
    "changsha_county": "长沙县",
    "liuyang": "浏阳市",
    "ningxiang": "宁乡市",
}

# Approximate centres of the districts (WGS-84), for map pins and "Near me".
AREA_CENTRES: dict[str, tuple[float, float]] = {
    "furong": (28.1960, 112.9880),
    "tianxin": (28.1140, 112.9900),
    "yuelu": (28.2130, 112.9130),
    "kaifu": (28.2570, 112.9850),
    "yuhua": (28.1350, 113.0350),
    "wangcheng": (28.3480, 112.8190),
    "changsha_county": (28.2470, 113.0810),
    "liuyang": (28.1630, 113.6430),
    "ningxiang": (28.2770, 112.5520),
}

ORGANIZATIONS: tuple[tuple[str, OrganizationType, str], ...] = (
    ("长沙市青年志愿者协会", OrganizationType.VOLUNTEER_TEAM, "furong"),
    ("岳麓区望岳街道社区", OrganizationType.COMMUNITY, "yuelu"),
    ("湖南师范大学青年志愿者服务队", OrganizationType.SCHOOL, "yuelu"),
    ("长沙市餐饮行业协会", OrganizationType.ASSOCIATION, "tianxin"),
    ("星城公益服务中心", OrganizationType.SOCIAL_ORG, "kaifu"),
    ("雨花区卫生健康局", OrganizationType.PUBLIC_INSTITUTION, "yuhua"),
)

# (title, category, description, skills, people served, capacity, hours)
ACTIVITIES: tuple[
    tuple[str, str, str, tuple[str, ...], tuple[PeopleServed, ...], int, int], ...
] = (
    (
        "敬老院陪伴聊天",
        "elderly_children",
        "陪伴老人聊天、读报，帮助整理房间。",
        (),
        (PeopleServed.ELDERLY_CHILDREN, PeopleServed.EMPTY_NEST_ELDERLY),
        8,
        2,
    ),
    (
        "社区义诊：测血压血糖",
        "health",
        "协助医生为居民测量血压、血糖，登记健康档案。",
        ("medical",),
        (PeopleServed.ELDERLY_CHILDREN,),
        6,
        3,
    ),
    ("湘江河岸垃圾清理", "environment", "沿湘江风光带捡拾垃圾，分类回收。", (), (), 30, 3),
    (
        "留守儿童周末课业辅导",
        "education",
        "为留守儿童辅导数学、语文作业。",
        ("teaching",),
        (PeopleServed.LEFT_BEHIND_CHILDREN,),
        10,
        2,
    ),
    ("图书馆少儿阅读推广", "culture", "在少儿阅览区组织亲子阅读、讲绘本故事。", (), (), 6, 2),
    ("文明交通劝导", "traffic", "在路口协助交警劝导行人、非机动车文明出行。", (), (), 12, 2),
    (
        "防诈骗宣传进社区",
        "public_safety",
        "向居民讲解常见诈骗手法，发放宣传资料。",
        (),
        (PeopleServed.ELDERLY_CHILDREN,),
        8,
        2,
    ),
    (
        "残疾人康复中心手工课",
        "disability",
        "协助老师带领学员做手工，陪伴交流。",
        (),
        (PeopleServed.DISABLED,),
        6,
        3,
    ),
    (
        "法律咨询进社区",
        "legal_aid",
        "为居民提供婚姻、劳动、租房等法律咨询。",
        ("legal",),
        (PeopleServed.LOW_INCOME,),
        4,
        3,
    ),
    ("心理热线值班", "counselling", "在督导指导下接听心理援助热线。", ("psychology",), (), 3, 4),
    (
        "社区科普小课堂",
        "science",
        "带孩子们做简单的科学小实验。",
        (),
        (PeopleServed.ELDERLY_CHILDREN,),
        8,
        2,
    ),
    (
        "邻里互助跑腿日",
        "neighbourhood",
        "为行动不便的老人代买药品、生活用品。",
        (),
        (PeopleServed.EMPTY_NEST_ELDERLY,),
        10,
        3,
    ),
    (
        "外卖骑手爱心驿站服务",
        "community",
        "在驿站为外卖、快递骑手提供热水、充电和休息服务。",
        (),
        (PeopleServed.NEW_EMPLOYMENT,),
        6,
        4,
    ),
    ("全民健身太极拳教学", "sports", "在公园带领居民学习太极拳。", (), (), 15, 2),
    (
        "困难家庭冬衣捐赠分拣",
        "poverty",
        "整理、分拣捐赠的冬衣，打包发放。",
        (),
        (PeopleServed.LOW_INCOME,),
        20,
        3,
    ),
    (
        "应急救护培训助教",
        "disaster",
        "协助红十字会讲师开展心肺复苏培训。",
        ("first_aid",),
        (),
        4,
        3,
    ),
)

KEY_DATE_ACTIVITIES: tuple[tuple[str, str, str, int], ...] = (
    (
        "国际志愿者日主题宣传",
        "community",
        "12·5 国际志愿者日：志愿服务成果展示与新志愿者招募。",
        20,
    ),
    ("国际志愿者日敬老院慰问演出", "elderly_children", "为敬老院老人表演节目，送上冬日温暖。", 12),
    ("国际志愿者日义务献血引导", "health", "在献血车旁引导市民、讲解献血知识。", 8),
)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _next_volunteer_day(today: date) -> date:
    """The coming 12·5 (International Volunteer Day), at least three days ahead."""
    candidate = date(today.year, 12, 5)
    if candidate < today + timedelta(days=3):
        candidate = date(today.year + 1, 12, 5)
    return candidate


async def _add_user(users: UsersRepository, persona_or_id: Persona | int, name: str, lang: str,
                    now: datetime) -> int:  # fmt: skip
    telegram_id = persona_or_id.telegram_id if isinstance(persona_or_id, Persona) else persona_or_id
    await users.touch(
        TelegramIdentity(
            telegram_id=telegram_id,
            first_name=name,
            last_name=None,
            username=None,
            language_code=lang,
        ),
        now,
    )
    return telegram_id


async def _service_records_demo(
    db: Database,
    organization: Organization,
    profiles: list[VolunteerProfile],
    signups: SignupService,
    now: datetime,
) -> None:
    """For the organizer personas' organization: an activity whose check-in is open now (the
    volunteer personas are signed up), one that ended yesterday with check-ins waiting for the
    hours to be confirmed, and one confirmed last week, so /hours has records to show."""
    activities = ActivitiesRepository(db)
    attendance = AttendanceRepository(db)
    records = ServiceRecordsRepository(db)
    soon = now + timedelta(minutes=20)
    running = await activities.create(
        NewActivity(
            organization_id=organization.organization_id,
            title="社区环境清洁行动（可签到）",
            category_code="environment",
            description="清理小区绿地和楼道杂物，开展垃圾分类宣传。",
            starts_at=soon,
            ends_at=soon + timedelta(hours=2),
            place="芙蓉区定王台街道社区服务中心",
            area_code="furong",
            latitude=AREA_CENTRES["furong"][0],
            longitude=AREA_CENTRES["furong"][1],
            capacity=20,
            leader_name="李老师",
        ),
        now,
    )
    for profile in profiles[:8]:
        with contextlib.suppress(SignupRefused):
            await signups.sign_up(profile.telegram_id, running.activity_id)
    for days_ago, title in ((1, "老年食堂助餐服务"), (7, "社区义诊与健康讲座")):
        start = _local((now - timedelta(days=days_ago)).astimezone(SHANGHAI).date(), 9)
        past = await activities.create(
            NewActivity(
                organization_id=organization.organization_id,
                title=title,
                category_code="elderly_children" if days_ago == 1 else "health",
                description="为社区老人送餐、陪伴聊天。"
                if days_ago == 1
                else "测量血压、讲解健康知识。",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                place="芙蓉区定王台街道社区服务中心",
                area_code="furong",
                capacity=20,
                leader_name="李老师",
            ),
            start - timedelta(days=7),
        )
        for offset, profile in enumerate(profiles[:10]):
            arrived = start - timedelta(minutes=10) + timedelta(minutes=7 * offset)
            await attendance.check_in(
                past.activity_id,
                profile.volunteer_id,
                CheckMethod.CODE,
                late=offset > 3,
                walk_in=False,
                now=arrived,
            )
            left = start + timedelta(hours=3, minutes=offset) - timedelta(minutes=20 * (offset % 3))
            await attendance.check_out(
                past.activity_id, profile.volunteer_id, CheckMethod.CODE, left
            )
        if days_ago == 7:
            recording = await attendance.recording_activity(past.activity_id)
            assert recording is not None
            await records.confirm(
                recording,
                start.astimezone(SHANGHAI).date(),
                [
                    NewRecord(profile.volunteer_id, 180 - 30 * (i % 2))
                    for i, profile in enumerate(profiles[:10])
                ],
                by=PERSONAS[4].telegram_id,
                now=start + timedelta(days=1),
                notify=(),
            )


async def load_demo_data(db: Database, now: datetime, *, seed: int = 7) -> bool:
    """Fill a migrated database with demo data; does nothing (returns ``False``) when it already
    holds activities, so a kept playground database is reused as it is."""
    existing = await db.fetch_one("SELECT COUNT(*) AS n FROM activities")
    if existing is not None and existing["n"] > 0:
        return False
    rng = random.Random(seed)
    users = UsersRepository(db)
    volunteers = VolunteersRepository(db)
    organizations = OrganizationsRepository(db)
    activities = ActivitiesRepository(db)
    clock = ManualClock(now)
    # No reminders are planned for the demo sign-ups: the demo volunteers have no chat to
    # receive them. Sign-ups the personas make in the playground get theirs as usual.
    signups = SignupService(
        db, volunteers, activities, SignupsRepository(db), OutboxRepository(db), clock, SHANGHAI
    )
    today = now.astimezone(SHANGHAI).date()

    # Organizations, with the organizer personas as members of the first one.
    orgs = []
    for name, org_type, area in ORGANIZATIONS:
        orgs.append(
            await organizations.create(
                NewOrganization(
                    name=name,
                    org_type=org_type,
                    area_code=area,
                    contact_name="联络人",
                    contact_phone="+8673188880000",
                    description=f"{name}，长期开展志愿服务活动。",
                    status=OrganizationStatus.APPROVED,
                ),
                now,
            )
        )
    # One application waiting for the administrators, sent by the English visitor, so the
    # admin personas can approve it and the visitor sees the decision arrive.
    applicant = PERSONAS[1]
    await _add_user(users, applicant, applicant.first_name, applicant.language_code, now)
    await organizations.create(
        NewOrganization(
            name="Meixi Lake International School Volunteer Club",
            org_type=OrganizationType.SCHOOL,
            area_code="yuelu",
            contact_name="Nina Clarke",
            contact_phone="+8613800007002",
            description="Students and parents who tutor children of migrant workers at weekends.",
            status=OrganizationStatus.PENDING,
            applied_by=applicant.telegram_id,
        ),
        now,
    )
    for persona in PERSONAS:
        if persona.role in ("organizer", "admin"):
            await _add_user(users, persona, persona.first_name, persona.language_code, now)
        if persona.role == "organizer":
            await organizations.add_member(
                orgs[0].organization_id, persona.telegram_id, MemberRole.MANAGER, now
            )

    # Activities over the next five weeks, mornings, afternoons and evenings.
    created = []
    for index, (title, category, description, skills, people, capacity, hours) in enumerate(
        ACTIVITIES * 2
    ):
        day = today + timedelta(days=1 + (index * 5) % 34)
        hour = (9, 14, 19)[index % 3]
        org = orgs[index % len(orgs)]
        area = list(AREA_CENTRES)[index % 7]
        latitude, longitude = AREA_CENTRES[area]
        start = _local(day, hour)
        created.append(
            await activities.create(
                NewActivity(
                    organization_id=org.organization_id,
                    title=title if index < len(ACTIVITIES) else f"{title}（第二期）",
                    category_code=category,
                    description=description,
                    starts_at=start,
                    ends_at=start + timedelta(hours=hours),
                    place=f"{AREA_NAMES[area]} · {org.name}活动点",
                    area_code=area,
                    latitude=round(latitude + rng.uniform(-0.02, 0.02), 5),
                    longitude=round(longitude + rng.uniform(-0.02, 0.02), 5),
                    capacity=capacity,
                    required_skills=skills,
                    training_required=bool(skills) and index % 2 == 0,
                    adults_only=category in ("traffic", "counselling"),
                    people_served=people,
                    leader_name="张老师",
                ),
                now,
            )
        )
    volunteer_day = _next_volunteer_day(today)
    for index, (title, category, description, capacity) in enumerate(KEY_DATE_ACTIVITIES):
        start = _local(volunteer_day, (9, 14, 10)[index])
        area = ("furong", "kaifu", "yuelu")[index]
        latitude, longitude = AREA_CENTRES[area]
        created.append(
            await activities.create(
                NewActivity(
                    organization_id=orgs[index].organization_id,
                    title=title,
                    category_code=category,
                    description=description,
                    starts_at=start,
                    ends_at=start + timedelta(hours=3),
                    place=f"{AREA_NAMES[area]} · 志愿服务广场",
                    area_code=area,
                    latitude=latitude,
                    longitude=longitude,
                    capacity=capacity,
                    key_date="intl_volunteer_day",
                    leader_name="陈主任",
                ),
                now,
            )
        )
    # One small activity soon, to fill up and show the waitlist.
    soon = _local(today + timedelta(days=2), 9)
    full = await activities.create(
        NewActivity(
            organization_id=orgs[1].organization_id,
            title="社区食堂帮厨（名额少）",
            category_code="elderly_children",
            description="为社区老年食堂择菜、分餐、打扫。",
            starts_at=soon,
            ends_at=soon + timedelta(hours=3),
            place="岳麓区望岳街道老年食堂",
            area_code="yuelu",
            latitude=AREA_CENTRES["yuelu"][0],
            longitude=AREA_CENTRES["yuelu"][1],
            capacity=3,
            people_served=(PeopleServed.ELDERLY_CHILDREN,),
        ),
        now,
    )
    created.append(full)

    # Volunteers: the two volunteer personas and forty others.
    categories = [
        "elderly_children", "health", "environment", "education", "culture", "community",
        "neighbourhood", "sports",
    ]  # fmt: skip
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "芳伟娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
    profiles = []
    for number in range(42):
        if number < 2:
            persona = PERSONAS[2 + number]
            telegram_id = await _add_user(
                users, persona, persona.first_name, persona.language_code, now
            )
            name = "王芳" if number == 0 else "Tom Baker"
            interests = ["elderly_children", "health", "environment"]
            own_skills = ["first_aid"] if number == 0 else ["teaching", "translation"]
            area = "yuelu"
            availability = int(Slot.WEEKEND_MORNING | Slot.WEEKEND_AFTERNOON | Slot.WEEKDAY_EVENING)
        else:
            telegram_id = await _add_user(users, 8000 + number, f"志愿者{number}", "zh-hans", now)
            name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
            interests = rng.sample(categories, k=rng.randint(1, 3))
            own_skills = rng.sample(
                ["first_aid", "medical", "teaching", "it", "photography"], k=rng.randint(0, 2)
            )
            area = rng.choice(list(AREA_CENTRES))
            availability = rng.randint(1, 63)
        data = DraftData(
            consent_version=DEMO_CONSENT_VERSION,
            consent_at=now,
            real_name=name,
            phone=f"+86138{telegram_id % 100_000_000:08d}",
            gender_answered=True,
            birth_date=date(1960 + rng.randint(0, 45), rng.randint(1, 12), rng.randint(1, 28)),
            area_code=area,
            skills=own_skills,
            categories=interests,
            availability=availability,
        )
        profiles.append(await volunteers.create_profile(telegram_id, data, is_minor=False, now=now))

    # Sign-ups: the demo volunteers (not the personas, who should find free spots) take part of
    # many activities; the small one fills up and gets a waitlist.
    others = profiles[2:]
    for activity in created:
        if activity.activity_id == full.activity_id:
            continue
        for profile in rng.sample(others, k=min(len(others), activity.capacity // 2)):
            # A clash or a missing skill is refused: the rules hold for demo data too.
            with contextlib.suppress(SignupRefused):
                await signups.sign_up(profile.telegram_id, activity.activity_id)
    for profile in others[:3]:
        await signups.sign_up(profile.telegram_id, full.activity_id)
    for profile in others[3:5]:
        await signups.join_waitlist(profile.telegram_id, full.activity_id)
    await _service_records_demo(db, orgs[0], profiles, signups, now)
    log.info(
        "demo data: %s organizations, %s activities, %s volunteers",
        len(orgs),
        len(created),
        len(profiles),
    )
    return True
