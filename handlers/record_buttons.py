"""Button families of service records: check-in (``ck.``), attendance (``at.``), the hours
review (``hr.``), a volunteer's records (``hrs.``) and corrections (``cor.``).

They live apart from the modules that handle them so the management card
(:mod:`handlers.manage`) can draw the entry buttons without importing those modules. Every
family names the activity, record or correction it was drawn for; the services re-check on the
server that the presser may act on it. "Confirm the hours" carries a stamp of the list shown
(:func:`bot.domain.service_records.review_stamp`), so it never confirms a list nobody saw.
"""

from __future__ import annotations

from bot.domain.checkin import CheckMode
from bot.domain.hours import AttendanceMark
from handlers.callbacks import Press

# -- check-in display (organizer) ----------------------------------------------------------------


class CheckinOpen(Press, prefix="ck.open"):
    activity_id: int
    mode: CheckMode


class CheckinClose(Press, prefix="ck.close"):
    activity_id: int


class AllOutAsk(Press, prefix="ck.out"):
    activity_id: int


class AllOutAt(Press, prefix="ck.outat"):
    """Everyone still checked in is checked out at ``minute`` (Unix time / 60)."""

    activity_id: int
    minute: int


# -- attendance (organizer) ------------------------------------------------------------------------


class AttendanceList(Press, prefix="at.list"):
    activity_id: int
    page: int


class AttendancePerson(Press, prefix="at.p"):
    activity_id: int
    volunteer_id: int


class AttendanceMarkAsk(Press, prefix="at.m"):
    activity_id: int
    volunteer_id: int
    mark: AttendanceMark


class AttendanceMarkWhy(Press, prefix="at.why"):
    """A hand mark with one of the quick reasons (``bot.services.attendance.MARK_REASONS``)."""

    activity_id: int
    volunteer_id: int
    mark: AttendanceMark
    reason: str


class WalkInAsk(Press, prefix="at.walk"):
    activity_id: int


class AttendanceLog(Press, prefix="at.log"):
    activity_id: int


# -- hours review (organizer) ----------------------------------------------------------------------


class HoursReview(Press, prefix="hr.rev"):
    activity_id: int
    page: int


class HoursEdit(Press, prefix="hr.ed"):
    activity_id: int
    volunteer_id: int


class HoursExtend(Press, prefix="hr.ext"):
    activity_id: int


class HoursConfirm(Press, prefix="hr.ok"):
    activity_id: int
    stamp: int


# -- a volunteer's records -------------------------------------------------------------------------


class MyHoursPage(Press, prefix="hrs.p"):
    page: int


class MyRecord(Press, prefix="hrs.r"):
    record_id: int


class CorrectionAsk(Press, prefix="hrs.fix"):
    record_id: int


# -- deciding a correction (organizer) -------------------------------------------------------------


class CorrectionApprove(Press, prefix="cor.ok"):
    correction_id: int


class CorrectionReject(Press, prefix="cor.no"):
    correction_id: int
