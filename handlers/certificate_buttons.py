"""Button families of certificates (``cert.``): the volunteer's screen, the managers' decision
and the administrators' list and revocation.

Apart from the handlers so :mod:`handlers.my_hours` can draw the "📜 Certificate" button without
importing them. Every family names the certificate it was drawn for; the service re-checks that
the presser may act on it (the holder, a manager of the approving unit, an administrator).
"""

from __future__ import annotations

from enum import StrEnum

from handlers.callbacks import Press


class CertScope(StrEnum):
    ALL = "all"
    THIS_YEAR = "this"
    LAST_YEAR = "last"
    DATES = "dates"  # typed dates: asks for them


class CertMenu(Press, prefix="cert.menu"):
    """The volunteer's certificates and the choice of a new one."""


class CertAsk(Press, prefix="cert.ask"):
    scope: CertScope


class CertGet(Press, prefix="cert.get"):
    """Send the PDF of one of the presser's certificates."""

    certificate_id: int


class CertApprove(Press, prefix="cert.ok"):
    certificate_id: int


class CertReject(Press, prefix="cert.no"):
    certificate_id: int


class CertAdminList(Press, prefix="cert.adm"):
    page: int


class CertAdminShow(Press, prefix="cert.as"):
    certificate_id: int


class CertRevoke(Press, prefix="cert.rv"):
    """An administrator revokes: asks for the reason."""

    certificate_id: int
