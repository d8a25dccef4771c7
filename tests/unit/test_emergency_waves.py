"""Wave selection of emergency mobilization as a pure function (bot.domain.emergency): nearest
first, about twice the number needed in the first wave, later waves widening the radius only
while the target is not reached, nobody alerted twice, each person counted towards one need."""

from __future__ import annotations

import math
from datetime import time

from bot.domain.emergency import (
    Availability,
    Candidate,
    EmergencySkill,
    Need,
    NeedSkill,
    WavePolicy,
    counted_skill,
    headcount,
    plan_wave,
    shortfall,
)

AID = EmergencySkill.FIRST_AID
DRIVE = EmergencySkill.DRIVING
POLICY = WavePolicy(max_radius_km=50.0)


def person(vid: int, km: float | None, *skills: EmergencySkill, max_km: int = 50) -> Candidate:
    return Candidate(vid, frozenset(skills), km, max_km)


def first_aiders(count: int, step_km: float = 0.5) -> list[Candidate]:
    # Listed farthest first, so any nearest-first order is the function's own doing.
    return [person(i, (count - i) * step_km, AID) for i in range(count)]


def test_the_first_wave_reaches_twice_the_number_needed_nearest_first() -> None:
    pool = first_aiders(60)
    plan = plan_wave(pool, {NeedSkill.FIRST_AID: 10}, {}, set(), wave=1, previous_radius_km=0)
    distances = [alert.distance_km or 0.0 for alert in plan.alerts]
    assert len(plan.alerts) == 20
    assert distances == sorted(distances)
    assert distances == [0.5 * k for k in range(1, 21)]  # the 20 nearest, no one farther
    assert plan.radius_km == 10.0  # the farthest one alerted
    assert not plan.reached and not plan.exhausted


def test_only_people_with_the_skill_are_alerted_for_it_and_any_takes_the_rest() -> None:
    pool = [
        person(1, 1.0, AID),
        person(2, 2.0, AID, DRIVE),
        person(3, 3.0),  # on call, no listed skill
        person(4, 4.0, DRIVE),
        person(5, 5.0),
    ]
    plan = plan_wave(
        pool,
        {NeedSkill.DRIVING: 1, NeedSkill.ANY: 1},
        {},
        set(),
        wave=1,
        previous_radius_km=0,
    )
    by_skill = {alert.volunteer_id: alert.skill for alert in plan.alerts}
    # The drivers go to driving (specialists first); "anyone" takes the nearest others.
    assert by_skill == {
        2: NeedSkill.DRIVING,
        4: NeedSkill.DRIVING,
        1: NeedSkill.ANY,
        3: NeedSkill.ANY,
    }


def test_nobody_is_sent_farther_than_they_would_travel_or_alerted_twice() -> None:
    pool = [person(1, 3.0, AID, max_km=3), person(2, 4.0, AID, max_km=3), person(3, 5.0, AID)]
    plan = plan_wave(pool, {NeedSkill.FIRST_AID: 5}, {}, {3}, wave=1, previous_radius_km=0)
    assert [alert.volunteer_id for alert in plan.alerts] == [1]


def test_a_later_wave_widens_the_radius_and_alerts_only_within_it() -> None:
    pool = first_aiders(60)  # 0.5 km apart
    alerted = {
        alert.volunteer_id
        for alert in plan_wave(
            pool, {NeedSkill.FIRST_AID: 10}, {}, set(), wave=1, previous_radius_km=0
        ).alerts
    }
    # Four are coming after wave 1 (radius 10 km): six missing, so twelve more, within 20 km.
    plan = plan_wave(
        pool,
        {NeedSkill.FIRST_AID: 10},
        {NeedSkill.FIRST_AID: 4},
        alerted,
        wave=2,
        previous_radius_km=10.0,
    )
    assert plan.radius_km == 20.0
    assert len(plan.alerts) == 12
    assert all(10.0 < (a.distance_km or 0) <= 20.0 for a in plan.alerts)
    assert [a.distance_km for a in plan.alerts] == [10.5 + 0.5 * k for k in range(12)]
    assert not {a.volunteer_id for a in plan.alerts} & alerted


def test_a_wave_with_nobody_in_the_ring_still_widens_by_at_least_the_step() -> None:
    pool = [person(1, 0.2, AID), person(2, 9.0, AID)]
    plan = plan_wave(
        pool, {NeedSkill.FIRST_AID: 2}, {}, {1}, wave=2, previous_radius_km=0.2, policy=POLICY
    )
    assert plan.alerts == ()
    assert plan.radius_km == 2.2  # 0.2 × 2 is less than 0.2 + 2 km
    assert not plan.exhausted  # number 2 is still within reach of a wider wave


def test_once_the_target_is_reached_no_wave_goes_out() -> None:
    pool = first_aiders(60)
    plan = plan_wave(
        pool,
        {NeedSkill.FIRST_AID: 10},
        {NeedSkill.FIRST_AID: 10},
        set(),
        wave=3,
        previous_radius_km=5.0,
    )
    assert plan.reached and plan.alerts == ()
    assert plan.radius_km == 5.0  # not widened


def test_people_without_a_known_position_are_reached_only_at_the_largest_radius() -> None:
    pool = [person(1, None, AID), person(2, 1.0, AID)]
    first = plan_wave(pool, {NeedSkill.FIRST_AID: 2}, {}, set(), wave=1, previous_radius_km=0)
    assert [a.volunteer_id for a in first.alerts] == [2]
    middle = plan_wave(pool, {NeedSkill.FIRST_AID: 2}, {}, {2}, wave=2, previous_radius_km=10)
    assert middle.alerts == ()
    last = plan_wave(pool, {NeedSkill.FIRST_AID: 2}, {}, {2}, wave=3, previous_radius_km=40)
    assert [a.volunteer_id for a in last.alerts] == [1]
    assert last.radius_km == 50.0 and last.exhausted


def test_the_waves_are_done_when_nobody_is_left_within_reach() -> None:
    pool = [person(1, 1.0, AID), person(2, 80.0, AID)]  # number 2 is beyond the largest radius
    plan = plan_wave(pool, {NeedSkill.FIRST_AID: 1}, {}, set(), wave=1, previous_radius_km=0)
    assert [a.volunteer_id for a in plan.alerts] == [1]
    assert plan.exhausted


def test_waves_stop_at_the_target_through_a_whole_mobilization() -> None:
    """Simulate: each wave, a third of those alerted say yes; waves stop at the target."""
    pool = first_aiders(200, step_km=0.2)
    needs = {NeedSkill.FIRST_AID: 10}
    alerted: set[int] = set()
    coming = 0
    radius = 0.0
    waves = 0
    for wave in range(1, 20):
        plan = plan_wave(
            pool,
            needs,
            {NeedSkill.FIRST_AID: coming},
            alerted,
            wave=wave,
            previous_radius_km=radius,
        )
        if plan.reached:
            break
        waves += 1
        assert radius <= plan.radius_km  # the radius never shrinks
        radius = plan.radius_km
        alerted |= {a.volunteer_id for a in plan.alerts}
        coming += math.ceil(len(plan.alerts) / 3)
    assert coming >= 10
    assert waves == 3  # 20 alerted → 7 coming; 6 more → 9; 2 more → 10: reached
    assert len(alerted) < 200


def test_a_yes_counts_towards_the_shortest_need_it_fits() -> None:
    needs = {NeedSkill.FIRST_AID: 4, NeedSkill.DRIVING: 2, NeedSkill.ANY: 3}
    coming = {NeedSkill.FIRST_AID: 3, NeedSkill.DRIVING: 0}
    assert counted_skill({AID, DRIVE}, NeedSkill.FIRST_AID, needs, coming) is NeedSkill.ANY
    assert counted_skill(
        {AID, DRIVE}, NeedSkill.FIRST_AID, needs, {**coming, NeedSkill.ANY: 3}
    ) is (NeedSkill.DRIVING)
    assert counted_skill(set(), NeedSkill.DRIVING, {NeedSkill.DRIVING: 1}, {}) is NeedSkill.DRIVING
    assert shortfall(needs, coming) == {
        NeedSkill.FIRST_AID: 1,
        NeedSkill.DRIVING: 2,
        NeedSkill.ANY: 3,
    }


def test_the_headcount_adds_up() -> None:
    count = headcount(
        [Need(NeedSkill.ANY, 2), Need(NeedSkill.FIRST_AID, 3)],
        {NeedSkill.FIRST_AID: 3, NeedSkill.ANY: 1},
        alerted=10,
        cannot=2,
        by_eta={15: 1, 30: 3},
    )
    assert [n.skill for n in count.needs] == [NeedSkill.FIRST_AID, NeedSkill.ANY]
    assert count.coming == 4 and count.waiting == 4 and not count.reached
    assert count.needs[0].reached


def test_availability_by_the_local_time_of_the_rally() -> None:
    assert Availability.ANY.allows(time(3, 0))
    assert Availability.DAY.allows(time(8, 0)) and not Availability.DAY.allows(time(20, 0))
    assert Availability.NIGHT.allows(time(23, 30)) and Availability.NIGHT.allows(time(7, 59))
    assert not Availability.NIGHT.allows(time(12, 0))


def test_need_skills_are_the_pool_skills_and_any() -> None:
    assert {s.value for s in NeedSkill} == {"any"} | {s.value for s in EmergencySkill}
