"""Button families of reports: an activity's figures (``fig.``), ``/stats`` with its tables and
charts (``st.``) and the campaign periods (``rp.``).

They live apart from the modules that handle them so that the management card
(:mod:`handlers.manage`) and the notifications can draw the entry buttons without importing
those modules. Every family names what it was drawn for (an activity, a scope, a key date); the
services re-check on the server that the presser may act on it.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.activities import PeopleServed
from bot.domain.reports import ChartKind, MediaKind, PeriodKind, ScopeKind
from handlers.callbacks import Press

# -- an activity's figures (organizer) -----------------------------------------------------------


class FiguresShow(Press, prefix="fig"):
    activity_id: int


class FiguresPeople(Press, prefix="fig.pp"):
    """Choose the kind of people served to type a number for."""

    activity_id: int


class FiguresPeopleKind(Press, prefix="fig.pk"):
    activity_id: int
    kind: PeopleServed


class FiguresFunds(Press, prefix="fig.fd"):
    activity_id: int


class FiguresOrganizations(Press, prefix="fig.org"):
    activity_id: int


class FiguresMedia(Press, prefix="fig.md"):
    """Choose the kind of a new media report."""

    activity_id: int


class FiguresMediaKind(Press, prefix="fig.mk"):
    activity_id: int
    kind: MediaKind


class FiguresReadsUnknown(Press, prefix="fig.nr"):
    """Save the media report being typed without a number of reads."""

    activity_id: int


class FiguresMediaDelete(Press, prefix="fig.mdel"):
    activity_id: int
    media_id: int


class FiguresDone(Press, prefix="fig.ok"):
    """Nothing (more) to record: the figures count as recorded."""

    activity_id: int


# -- /stats, tables and charts ---------------------------------------------------------------------


class FileFormat(StrEnum):
    XLSX = "x"
    CSV = "c"


class StatsShow(Press, prefix="st"):
    """``ref``: an organization's id, a district's code, or ``all``."""

    scope: ScopeKind
    ref: str


class StatsTable(Press, prefix="st.t"):
    scope: ScopeKind
    ref: str
    period: PeriodKind
    format: FileFormat


class StatsChart(Press, prefix="st.c"):
    scope: ScopeKind
    ref: str
    chart: ChartKind


class StatsAreas(Press, prefix="st.areas"):
    """Administrators: choose a district."""


# -- campaign periods (administrators) -------------------------------------------------------------


class PeriodsHome(Press, prefix="rp.home"):
    pass


class PeriodEdit(Press, prefix="rp.ed"):
    key_date: str


class PeriodToggle(Press, prefix="rp.on"):
    key_date: str
    enabled: bool
