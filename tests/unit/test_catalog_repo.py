"""storage.catalog.CatalogRepository: the seeded reference lists and their admin edits."""

from __future__ import annotations

import pytest

from bot.domain.volunteers import CatalogItem, CatalogKind
from storage.catalog import CatalogRepository
from storage.db import Database


async def test_seeded_lists_have_both_languages_in_order(db: Database) -> None:
    catalog = CatalogRepository(db)
    skills = await catalog.skills()
    categories = await catalog.categories()
    areas = await catalog.areas()
    assert (len(skills), len(categories), len(areas)) == (12, 16, 9)
    for items in (skills, categories, areas):
        assert all(item.name_zh and item.name_en and item.is_active for item in items)
        assert [item.sort_order for item in items] == sorted(item.sort_order for item in items)
        assert len({item.code for item in items}) == len(items)

    assert skills[0] == CatalogItem(
        code="first_aid", name_zh="急救", name_en="First aid", sort_order=10
    )
    assert [item.name_zh for item in categories] == [
        "扶老爱幼",
        "扶弱助残",
        "济困解难",
        "支教助学",
        "救灾援助",
        "卫生健康",
        "体育健身",
        "文化惠民",
        "生态环保",
        "科普",
        "普法与法律服务",
        "心理疏导",
        "平安建设",
        "文明交通",
        "邻里守望",
        "社区治理",
    ]
    assert [item.code for item in areas] == [
        "furong",
        "tianxin",
        "yuelu",
        "kaifu",
        "yuhua",
        "wangcheng",
        "changsha_county",
        "liuyang",
        "ningxiang",
    ]
    yuelu = await catalog.area("yuelu")
    assert yuelu is not None and (yuelu.name_zh, yuelu.name_en) == ("岳麓区", "Yuelu District")
    assert yuelu.name("zh") == "岳麓区" and yuelu.name("en") == "Yuelu District"
    category = await catalog.category("legal_aid")
    assert category is not None and category.name_en == "Law and legal aid"
    skill = await catalog.skill("sign_language")
    assert skill is not None and skill.name_zh == "手语"
    assert await catalog.skill("juggling") is None
    assert await catalog.area("first_aid") is None  # kinds do not mix


async def test_upsert_adds_and_edits(db: Database) -> None:
    catalog = CatalogRepository(db)
    added = await catalog.upsert_skill(
        CatalogItem(code="cooking", name_zh="烹饪", name_en="Cooking", sort_order=15)
    )
    assert added.is_active
    codes = [item.code for item in await catalog.skills()]
    assert codes[:3] == ["first_aid", "cooking", "medical"]

    edited = await catalog.upsert_skill(
        CatalogItem(code="cooking", name_zh="厨艺", name_en=" Cooking and baking ", sort_order=500)
    )
    assert (edited.name_zh, edited.name_en, edited.sort_order) == (
        "厨艺",
        "Cooking and baking",
        500,
    )
    assert await catalog.skill("cooking") == edited
    assert [item.code for item in await catalog.skills()][-1] == "cooking"
    assert len(await catalog.skills()) == 13

    area = await catalog.upsert_area(
        CatalogItem(code="xiangjiang", name_zh="湘江新区", name_en="Xiangjiang New Area")
    )
    assert area.sort_order == 0
    assert (await catalog.areas())[0].code == "xiangjiang"  # ties are broken by sort_order first
    category = await catalog.upsert_category(
        CatalogItem(code="health", name_zh="卫生健康", name_en="Health care", sort_order=60)
    )
    assert category.name_en == "Health care"
    assert len(await catalog.categories()) == 16


async def test_set_active_hides_and_shows(db: Database) -> None:
    catalog = CatalogRepository(db)
    assert await catalog.set_active(CatalogKind.AREA, "kaifu", False)
    assert "kaifu" not in [item.code for item in await catalog.areas()]
    everything = await catalog.areas(include_inactive=True)
    assert len(everything) == 9
    hidden = next(item for item in everything if item.code == "kaifu")
    assert not hidden.is_active
    # A retired entry can still be looked up: profiles keep referring to it.
    looked_up = await catalog.area("kaifu")
    assert looked_up is not None and not looked_up.is_active

    assert await catalog.set_active(CatalogKind.AREA, "kaifu", True)
    assert len(await catalog.areas()) == 9
    assert not await catalog.set_active(CatalogKind.SKILL, "no_such_skill", False)

    # An upsert also carries the flag.
    await catalog.upsert_category(
        CatalogItem(code="traffic", name_zh="文明交通", name_en="Road safety", is_active=False)
    )
    assert len(await catalog.categories()) == 15
    assert len(await catalog.items(CatalogKind.CATEGORY, include_inactive=True)) == 16


@pytest.mark.parametrize("code", ["", "Cooking", "1st", "with space", "x" * 33, "a;b", "急救"])
async def test_malformed_codes_are_refused(db: Database, code: str) -> None:
    with pytest.raises(ValueError, match="catalog code"):
        await CatalogRepository(db).upsert_skill(CatalogItem(code=code, name_zh="名", name_en="n"))


async def test_empty_names_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="both a Chinese and an English name"):
        await CatalogRepository(db).upsert_area(
            CatalogItem(code="somewhere", name_zh=" ", name_en="Somewhere")
        )


async def test_kind_must_be_a_known_one(db: Database) -> None:
    with pytest.raises(ValueError):
        await CatalogRepository(db).items("users")  # type: ignore[arg-type]
    # The plain string value of a kind is accepted.
    assert len(await CatalogRepository(db).items("skill")) == 12  # type: ignore[arg-type]


async def test_lists_are_kept_a_few_seconds_and_dropped_by_an_edit_through_any_repository(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import catalog as catalog_module

    now = [1_000.0]
    monkeypatch.setattr(catalog_module.time, "monotonic", lambda: now[0])
    reader, editor = CatalogRepository(db), CatalogRepository(db)
    assert (await reader.category("health")) is not None
    # A change made around the repositories (another instance, say) is seen after the window.
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE service_categories SET name_en = 'Health care' WHERE code = ?", ("health",)
        )
    kept = await reader.category("health")
    assert kept is not None and kept.name_en == "Health"
    now[0] += catalog_module.LISTS_KEPT_FOR + 0.1
    fresh = await reader.category("health")
    assert fresh is not None and fresh.name_en == "Health care"
    # An edit through any repository on the database is seen on the next read, at once.
    assert await editor.set_active(CatalogKind.CATEGORY, "health", False)
    assert "health" not in {item.code for item in await reader.categories()}
    assert "health" in {item.code for item in await reader.categories(include_inactive=True)}
    assert await editor.rename(CatalogKind.CATEGORY, "health", "卫生", "Health")
    renamed = await reader.category("health")
    assert renamed is not None and renamed.name_zh == "卫生"
