"""The stored owner of a user's typed input, the dispatcher that follows it, typed buttons."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.clock import ManualClock
from bot.domain.users import TelegramIdentity
from bot.services.flows import FlowService
from handlers import import_every_module
from handlers.callbacks import PRESS_FAMILIES, Press, callback
from storage.backends import open_database
from storage.db import Database
from storage.flows import FlowsRepository
from storage.migrate import migrate
from storage.users import UsersRepository

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
ALICE = 101


async def _user(db: Database, telegram_id: int = ALICE) -> None:
    identity = TelegramIdentity(telegram_id=telegram_id, first_name="Li", language_code="zh")
    await UsersRepository(db).touch(identity, NOW)


async def test_the_flow_that_asked_last_owns_the_input(db: Database) -> None:
    await _user(db)
    flows = FlowService(FlowsRepository(db), ManualClock(NOW))
    assert await flows.owner(ALICE) is None
    first = await flows.take(ALICE, "registration", "name")
    assert (first.flow, first.waiting_for, first.version) == ("registration", "name", 1)
    second = await flows.take(ALICE, "cancel_reason", "reason", {"activity": 7})
    assert second.flow == "cancel_reason" and second.version == 2
    assert second.int_state("activity") == 7 and second.str_state("activity") is None
    # A flow that was displaced cannot release the newer owner's claim.
    assert not await flows.release(ALICE, "registration")
    assert await flows.owned_by(ALICE, "cancel_reason") == second
    assert await flows.owned_by(ALICE, "registration") is None
    assert await flows.release(ALICE, "cancel_reason")
    assert await flows.owner(ALICE) is None


async def test_oversized_state_is_refused_not_truncated(db: Database) -> None:
    await _user(db)
    flows = FlowService(FlowsRepository(db), ManualClock(NOW))
    with pytest.raises(ValueError, match="flow state"):
        await flows.take(ALICE, "search", "words", {"words": ["字" * 100] * 30})
    assert await flows.owner(ALICE) is None


async def test_two_processes_see_one_owner(db_path: Path) -> None:
    """Two Database objects on one file stand for two bot processes serving one user."""
    first = await open_database(db_path)
    second = await open_database(db_path)
    try:
        await migrate(first)
        await _user(first)
        one = FlowService(FlowsRepository(first), ManualClock(NOW))
        two = FlowService(FlowsRepository(second), ManualClock(NOW))
        await one.take(ALICE, "registration", "name")
        seen = await two.owner(ALICE)
        assert seen is not None and seen.waiting_for == "name"
        await two.take(ALICE, "registration", "phone")
        again = await one.owner(ALICE)
        assert again is not None and (again.waiting_for, again.version) == ("phone", 2)
        # Racing takes: both land, versions stay distinct, the last write owns the input.
        results = await asyncio.gather(
            *(
                service.take(ALICE, "registration", f"step{i}")
                for i, service in enumerate([one, two] * 5)
            )
        )
        assert sorted(owner.version for owner in results) == list(range(3, 13))
    finally:
        await first.close()
        await second.close()


async def test_deleting_the_user_forgets_the_owner(db: Database) -> None:
    await _user(db)
    flows = FlowService(FlowsRepository(db), ManualClock(NOW))
    await flows.take(ALICE, "registration", "name")
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM users WHERE telegram_id = ?", (ALICE,))
    assert await flows.owner(ALICE) is None


# ---------------------------------------------------------------------------- typed buttons


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Sample(Press, prefix="test.sample"):
    item: int
    colour: Colour
    code: str
    on: bool


def test_a_press_round_trips_and_rejects_forgeries() -> None:
    press = Sample(123456789012, Colour.BLUE, "name_2", True)
    data = press.pack()
    assert data == "test.sample:123456789012:blue:name_2:1"
    assert Sample.parse(data) == press
    for forged in [
        "test.sample:12:blue:x",  # a field missing
        "test.sample:12:blue:x:1:extra",
        "test.sample:²:blue:x:1",  # not ASCII digits
        "test.sample:-1:blue:x:1",
        "test.sample:12:green:x:1",  # not a member
        "test.sample:12:blue:x y:1",  # not a code
        "test.sample:12:blue:x:yes",
        "other:12:blue:x:1",
        "",
        None,
    ]:
        assert Sample.parse(forged) is None, forged


def test_prefixes_are_unique_and_data_fits_64_bytes() -> None:
    with pytest.raises(ValueError, match="used twice"):

        class Again(Press, prefix="test.sample"):
            item: int

    with pytest.raises(ValueError, match="64 bytes"):
        callback("x" * 65)


class Paged(Press, prefix="test.paged"):
    """A family with a default, as ``ManageList`` has: ``Paged(7)`` is page 0."""

    item: int
    page: int = 0
    limit: ClassVar[int] = 10  # not a field


def test_a_press_behaves_as_a_frozen_dataclass() -> None:
    """Families are not made by ``@dataclass`` (too slow to define ~270 of them at start-up,
    see :class:`Press`), so what they are owed as records is checked here."""
    assert Paged(7) == Paged(7, 0) == Paged(item=7) == Paged(page=0, item=7)
    assert Paged(7).pack() == "test.paged:7:0" and Paged.parse("test.paged:7:3") == Paged(7, 3)
    assert Paged(7) != Paged(7, 1) and Paged(7) != Paged(8)
    # Equal values of another family are another press (tables key by press).
    assert Sample(1, Colour.RED, "a", True) != Paged(1)
    assert {Paged(7): "x"}[Paged(item=7, page=0)] == "x" and hash(Paged(7)) == hash(Paged(7, 0))
    assert repr(Paged(7, 2)) == "Paged(item=7, page=2)"
    match Paged(7, 2):
        case Paged(item, page):
            assert (item, page) == (7, 2)
    press = Paged(7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        press.page = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del press.page
    assert press.page == 0 and "limit" not in Paged._names
    for wrong in [(), (1, 2, 3)]:
        with pytest.raises(TypeError):
            Paged(*wrong)
    with pytest.raises(TypeError, match="unexpected or repeated"):
        Paged(1, item=1)  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected or repeated"):
        Paged(1, size=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="without a default follows one"):

        class Backwards(Press, prefix="test.backwards"):
            page: int = 0
            item: int  # type: ignore[misc]


def test_a_family_made_from_another_keeps_its_fields_first() -> None:
    class Narrowed(Paged, prefix="test.narrowed"):
        size: int = 5

    assert Narrowed(7) == Narrowed(7, 0, 5) and Narrowed(7).pack() == "test.narrowed:7:0:5"
    assert Narrowed(7) != Paged(7) and Narrowed.parse("test.narrowed:7:1:9") == Narrowed(7, 1, 9)


def test_a_press_is_routed_by_its_prefix_or_exactly() -> None:
    assert Paged.matches("test.paged:7:0") and Paged.matches("test.paged")
    assert not Paged.matches("test.pagedx:7") and not Paged.matches("test.page")
    assert not Paged.matches(None) and not Paged.matches(42)
    exactly = Paged(7).exactly()
    assert exactly("test.paged:7:0") and not exactly("test.paged:7:1")


def _example(kind: Any) -> Any:
    if kind is bool:
        return True
    if kind is int:
        return 9_999_999_999_999_999  # the largest value a field may hold (16 digits)
    if kind is str:
        return "c" * 12
    return list(kind)[-1]


def test_every_press_family_of_the_handlers_round_trips() -> None:
    import_every_module()  # defines every family
    assert PRESS_FAMILIES, "no typed button family is defined"
    for prefix, family in PRESS_FAMILIES.items():
        if prefix.startswith("test."):
            continue
        values = {name: _example(kind) for name, kind in family._field_types()}
        press = family(**values)
        assert family.parse(press.pack()) == press, prefix


def test_refusal_texts_keep_equal_reasons_of_different_services_apart() -> None:
    from bot.services.activity_management import ManageRefusal
    from bot.services.staff import StaffRefusal
    from handlers.refusals import RefusalTexts

    class Other(StrEnum):
        NOT_FOUND = StaffRefusal.NOT_FOUND.value  # the same value, another service

    texts = RefusalTexts({StaffRefusal.NOT_FOUND: "staff"}, {Other.NOT_FOUND: "other"})
    assert texts.text_for(StaffRefusal.NOT_FOUND) == "staff"
    assert texts.text_for(Other.NOT_FOUND) == "other"
    assert texts.text_for(next(iter(ManageRefusal))) is None
