"""Resolving a typed place to a district (issue #13 item 5)."""

from __future__ import annotations

from bot.domain.areas import AreaMatch, resolve_area
from bot.domain.volunteers import CatalogItem

DISTRICTS = [
    CatalogItem(code="furong", name_zh="芙蓉区", name_en="Furong District"),
    CatalogItem(code="yuelu", name_zh="岳麓区", name_en="Yuelu District"),
    CatalogItem(code="tianxin", name_zh="天心区", name_en="Tianxin District"),
    CatalogItem(code="tianxiang", name_zh="天香县", name_en="Tianxiang County"),
    CatalogItem(code="gone", name_zh="旧城区", name_en="Old Town", is_active=False),
]
PLACES = {"橘子洲街道": "yuelu", "芙蓉北路街道": "furong", "五一广场": "furong"}


def test_names_prefixes_places_and_text_containing_a_district() -> None:
    def code(typed: str) -> str | None:
        return resolve_area(typed, DISTRICTS, PLACES).code

    assert code("岳麓区") == "yuelu"
    assert code("岳麓") == "yuelu"
    assert code("YUELU district") == "yuelu"
    assert code("橘子洲街道") == "yuelu"
    assert code("橘子洲") == "yuelu"  # the suffix off
    assert code("橘子洲街道 3 栋") == "yuelu"
    assert code("长沙市岳麓区麓山南路") == "yuelu"
    assert code("芙蓉") == "furong"  # a district's name wins over a place starting alike


def test_ambiguous_unknown_and_inactive() -> None:
    ambiguous = resolve_area("天", DISTRICTS, PLACES)  # one character: no district prefix
    assert ambiguous.match is AreaMatch.UNKNOWN
    both = resolve_area("天心天香", DISTRICTS, PLACES)
    assert both.match is AreaMatch.AMBIGUOUS and set(both.candidates) == {"tianxin", "tianxiang"}
    assert resolve_area("Atlantis", DISTRICTS, PLACES).match is AreaMatch.UNKNOWN
    assert resolve_area("旧城区", DISTRICTS, PLACES).match is AreaMatch.UNKNOWN  # deactivated
    assert resolve_area("   ", DISTRICTS, PLACES).match is AreaMatch.UNKNOWN
