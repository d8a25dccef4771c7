"""Monthly honours: a month and a listed volunteer (pure shapes, no storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Honoured:
    volunteer_id: int
    name: str
    minutes: int


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def after(self) -> date:
        """The first day of the next month (the range is ``[first, after)``)."""
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def packed(self) -> int:
        """``YYYYMM``, for a button."""
        return self.year * 100 + self.month

    @staticmethod
    def unpack(value: int) -> Month | None:
        year, month = divmod(value, 100)
        return Month(year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None
