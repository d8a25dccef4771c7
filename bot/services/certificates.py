"""Certificates of volunteer service (证明出具, 民政部令第67号 Art. 14–17): requesting, approving,
issuing, verifying and revoking.

```mermaid
flowchart LR
    ask[Volunteer: all records / a year / typed dates] --> same{same as a valid one?}
    same -->|yes| resend[That certificate again]
    same -->|no| approval{CERTIFICATE_APPROVAL}
    approval -->|off| issued[(issued: number, snapshot)]
    approval -->|on| requested[(requested)] -->|outbox| managers[Recording unit's managers]
    managers -->|approve| issued
    managers -->|reject + reason| rejected[(rejected)]
    issued & rejected -->|outbox| told[Volunteer told]
    issued -->|administrator: reason| revoked[(revoked)] -->|outbox| holder[Holder told]
    anyone[Anyone: cv_ link or /verify CODE] --> verify{code}
    verify -->|issued / revoked| answer[Masked name, hours, issuer, date, status]
    verify -->|unknown| nothing[Not found; counted against guessing]
```

The snapshot (records, content, units, masked name and ID number, issuer) is taken when the
certificate is issued — at approval when approval is on — so the hours are those confirmed at
that moment. Every change of status is a guarded UPDATE in the repository; a press is
re-authorized here (the holder for their own certificates, a manager of the approving
organization or an administrator for decisions, an administrator to revoke).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.domain.certificates import (
    Certificate,
    CertificateDocument,
    CertificateRefusal,
    CertificateRefused,
    CertificateSnapshot,
    CertificateStatus,
    GuessPolicy,
    Period,
    Verification,
    build_snapshot,
    clean_code,
    main_unit,
    mask_name,
    new_code,
)
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.service_records import ServiceRecord
from bot.domain.users import Language
from bot.domain.validation import clean_free_text, mask_id_number
from bot.domain.volunteers import VolunteerProfile
from bot.services.staff import StaffService
from storage.catalog import CatalogRepository
from storage.certificates import CertificatesRepository, IssueData
from storage.volunteers import VolunteersRepository

log = logging.getLogger(__name__)

REASON_MIN = 2
REASON_MAX = 200
MY_CERTIFICATES_SHOWN = 8
ADMIN_PAGE_SIZE = 8


class CertificateService:
    def __init__(
        self,
        certificates: CertificatesRepository,
        volunteers: VolunteersRepository,
        catalog: CatalogRepository,
        staff: StaffService,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._certificates = certificates
        self._volunteers = volunteers
        self._catalog = catalog
        self._staff = staff
        self._clock = clock
        self._settings = settings
        self.policy = GuessPolicy(
            max_failures=settings.verify_max_failures,
            window=settings.verify_window,
            block=settings.verify_block,
        )

    @property
    def tz(self) -> ZoneInfo:
        return self._settings.tz

    @property
    def approval_required(self) -> bool:
        return self._settings.certificate_approval

    def now(self) -> datetime:
        return self._clock()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    # -- the volunteer ---------------------------------------------------------------------------

    async def _profile(self, telegram_id: int) -> VolunteerProfile:
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            raise CertificateRefused(CertificateRefusal.NOT_VOLUNTEER)
        return profile

    async def mine(self, telegram_id: int) -> list[Certificate]:
        profile = await self._profile(telegram_id)
        return await self._certificates.of_volunteer(profile.volunteer_id, MY_CERTIFICATES_SHOWN)

    async def request(
        self, telegram_id: int, period: Period, language: Language
    ) -> tuple[Certificate | None, bool]:
        """(the certificate, issued now). ``(None, False)``: the request waits for approval.

        A valid certificate that says the same (same period, language and records) is handed
        back instead of numbering a new one, so asking twice does not make two."""
        profile = await self._profile(telegram_id)
        records = await self._certificates.records_of(profile.volunteer_id, period)
        snapshot = await self._snapshot(records, period, language)
        if not snapshot.lines:
            raise CertificateRefused(CertificateRefusal.NO_RECORDS)
        data = self._issue_data(profile, snapshot, language)
        same = await self._certificates.same_valid(
            profile.volunteer_id, period, language, data.fingerprint
        )
        if same is not None:
            return same, False
        now = self.now()
        if not self.approval_required:
            issued = await self._certificates.issue_new(
                code=new_code(),
                volunteer_id=profile.volunteer_id,
                period=period,
                language=language,
                data=data,
                now=now,
            )
            if issued is None:
                raise CertificateRefused(CertificateRefusal.PENDING)
            log.info("certificate %s issued to volunteer %s", issued.number, profile.volunteer_id)
            return issued, True
        organization_id = main_unit(records, period)
        recipients = await self._approvers(organization_id)
        notify = [
            Notification(
                kind=NotificationKind.CERTIFICATE_REQUESTED,
                telegram_id=recipient,
                subject=f"certificate:{profile.volunteer_id}:{now.timestamp():.0f}",
                due_at=now,
            )
            for recipient in recipients
        ]
        certificate_id = await self._certificates.request(
            code=new_code(),
            volunteer_id=profile.volunteer_id,
            requested_by=telegram_id,
            period=period,
            language=language,
            approver_organization_id=organization_id,
            now=now,
            notify=notify,
        )
        if certificate_id is None:
            raise CertificateRefused(CertificateRefusal.PENDING)
        log.info(
            "certificate %s requested by volunteer %s (approver: organization %s)",
            certificate_id,
            profile.volunteer_id,
            organization_id,
        )
        return None, False

    async def _approvers(self, organization_id: int | None) -> list[int]:
        """The approving organization's managers; administrators when it has nobody (or the
        records name no organization any more)."""
        found = []
        if organization_id is not None:
            found = await self._certificates.managers(organization_id)
        if not found:
            found = sorted(
                set(self._settings.admin_ids) | set(await self._certificates.administrators())
            )
        return found

    async def _snapshot(
        self, records: Sequence[ServiceRecord], period: Period, language: Language
    ) -> CertificateSnapshot:
        names = {item.code: item.name(language.value) for item in await self._catalog.categories()}
        separator = ", " if language is Language.EN else "、"
        return build_snapshot(records, period, names, separator)

    def _issue_data(
        self, profile: VolunteerProfile, snapshot: CertificateSnapshot, language: Language
    ) -> IssueData:
        masked = mask_name(profile.real_name)
        return IssueData(
            snapshot=snapshot,
            masked_name=masked,
            masked_id_number=mask_id_number(profile.id_number) if profile.id_number else None,
            issuer_name=self.issuer_name(language),
            full_name=profile.real_name,
            holder_telegram_id=profile.telegram_id,
            fingerprint=snapshot.fingerprint(masked, language),
            issued_year=self.today().year,
        )

    def issuer_name(self, language: Language) -> str:
        if language is Language.EN:
            return self._settings.federation_name_en
        return self._settings.federation_name

    async def my_certificate(self, telegram_id: int, certificate_id: int) -> Certificate:
        profile = await self._profile(telegram_id)
        certificate = await self._certificates.get(certificate_id)
        if certificate is None or certificate.volunteer_id != profile.volunteer_id:
            raise CertificateRefused(CertificateRefusal.NOT_YOURS)
        return certificate

    async def document(self, telegram_id: int, certificate_id: int) -> CertificateDocument:
        """The holder's own copy (full name) of a valid certificate."""
        certificate = await self.my_certificate(telegram_id, certificate_id)
        if certificate.status is not CertificateStatus.ISSUED:
            raise CertificateRefused(CertificateRefusal.NOT_ISSUED)
        full_name = await self._certificates.full_name(certificate_id)
        return self._document(certificate, full_name)

    @staticmethod
    def _document(certificate: Certificate, full_name: str | None) -> CertificateDocument:
        if (
            certificate.snapshot is None
            or certificate.number is None
            or certificate.issued_at is None
            or certificate.issuer_name is None
        ):
            raise CertificateRefused(CertificateRefusal.NOT_ISSUED)
        return CertificateDocument(
            certificate=certificate,
            snapshot=certificate.snapshot,
            full_name=full_name or certificate.masked_name or "*",
            number=certificate.number,
            issued_at=certificate.issued_at,
            issuer_name=certificate.issuer_name,
        )

    # -- approval --------------------------------------------------------------------------------

    async def for_decision(self, telegram_id: int, certificate_id: int) -> Certificate:
        """The request, if this user may decide it (a manager of the approving organization,
        or an administrator)."""
        certificate = await self._certificates.get(certificate_id)
        if certificate is None:
            raise CertificateRefused(CertificateRefusal.NOT_YOURS)
        if certificate.approver_organization_id is None:
            await self._staff.require_admin(telegram_id)
        else:
            await self._staff.organization_for(
                telegram_id, certificate.approver_organization_id, manager=True
            )
        return certificate

    async def request_summary(self, certificate: Certificate) -> tuple[str, CertificateSnapshot]:
        """(the volunteer's name, what the certificate would say now) for the managers."""
        profile = await self._volunteers.get_profile_by_id(certificate.volunteer_id)
        if profile is None:
            return "—", CertificateSnapshot((), "", ())
        records = await self._certificates.records_of(profile.volunteer_id, certificate.period)
        return profile.real_name, await self._snapshot(
            records, certificate.period, certificate.language
        )

    async def approve(self, telegram_id: int, certificate_id: int) -> Certificate:
        certificate = await self.for_decision(telegram_id, certificate_id)
        if certificate.status is not CertificateStatus.REQUESTED:
            raise CertificateRefused(CertificateRefusal.DECIDED)
        profile = await self._volunteers.get_profile_by_id(certificate.volunteer_id)
        if profile is None:  # the account was deleted meanwhile
            raise CertificateRefused(CertificateRefusal.DECIDED)
        records = await self._certificates.records_of(profile.volunteer_id, certificate.period)
        snapshot = await self._snapshot(records, certificate.period, certificate.language)
        if not snapshot.lines:
            raise CertificateRefused(CertificateRefusal.NO_RECORDS)
        now = self.now()
        notify = self._tell_holder(certificate, NotificationKind.CERTIFICATE_DECIDED, now)
        data = self._issue_data(profile, snapshot, certificate.language)
        if not await self._certificates.approve(certificate_id, data, telegram_id, now, notify):
            raise CertificateRefused(CertificateRefusal.DECIDED)
        log.info("certificate %s approved by %s", certificate_id, telegram_id)
        return await self._reread(certificate_id)

    async def reject(self, telegram_id: int, certificate_id: int, reason: str) -> Certificate:
        certificate = await self.for_decision(telegram_id, certificate_id)
        if certificate.status is not CertificateStatus.REQUESTED:
            raise CertificateRefused(CertificateRefusal.DECIDED)
        reason = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        now = self.now()
        notify = self._tell_holder(certificate, NotificationKind.CERTIFICATE_DECIDED, now)
        if not await self._certificates.reject(certificate_id, telegram_id, reason, now, notify):
            raise CertificateRefused(CertificateRefusal.DECIDED)
        log.info("certificate %s rejected by %s", certificate_id, telegram_id)
        return await self._reread(certificate_id)

    def _tell_holder(
        self, certificate: Certificate, kind: NotificationKind, now: datetime
    ) -> list[Notification]:
        recipient = certificate.holder_telegram_id or certificate.requested_by
        if recipient is None:
            return []
        return [Notification(kind=kind, telegram_id=recipient, subject="certificate", due_at=now)]

    async def _reread(self, certificate_id: int) -> Certificate:
        found = await self._certificates.get(certificate_id)
        assert found is not None  # certificates are never deleted
        return found

    # -- administrators --------------------------------------------------------------------------

    async def is_admin(self, telegram_id: int) -> bool:
        return await self._staff.is_admin(telegram_id)

    async def admin_list(self, telegram_id: int, page: int) -> list[Certificate]:
        await self._staff.require_admin(telegram_id)
        page = max(page, 0)
        return await self._certificates.recent_issued(page * ADMIN_PAGE_SIZE, ADMIN_PAGE_SIZE + 1)

    async def admin_get(self, telegram_id: int, certificate_id: int) -> Certificate:
        await self._staff.require_admin(telegram_id)
        certificate = await self._certificates.get(certificate_id)
        if certificate is None:
            raise CertificateRefused(CertificateRefusal.NOT_YOURS)
        return certificate

    async def admin_find(self, telegram_id: int, text: str) -> Certificate | None:
        """A certificate by its number (``ZY-2026-000123``) or its code, for administrators."""
        await self._staff.require_admin(telegram_id)
        cleaned = text.strip().upper()
        found = await self._certificates.by_number(cleaned)
        if found is None and (code := clean_code(text)) is not None:
            found = await self._certificates.by_code(code)
        return found

    async def revoke(self, telegram_id: int, certificate_id: int, reason: str) -> Certificate:
        certificate = await self.admin_get(telegram_id, certificate_id)
        if certificate.status is not CertificateStatus.ISSUED:
            raise CertificateRefused(CertificateRefusal.NOT_ISSUED)
        reason = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        now = self.now()
        notify = self._tell_holder(certificate, NotificationKind.CERTIFICATE_REVOKED, now)
        if not await self._certificates.revoke(certificate_id, telegram_id, reason, now, notify):
            raise CertificateRefused(CertificateRefusal.NOT_ISSUED)
        log.info("certificate %s revoked by %s", certificate.number, telegram_id)
        return await self._reread(certificate_id)

    # -- anyone: verification --------------------------------------------------------------------

    async def verify(self, telegram_id: int, text: str) -> tuple[Verification | None, int | None]:
        """(what a verifier may see, the certificate id for an administrator's revoke button),
        or ``(None, None)`` for an unknown code — counted as a wrong guess.

        Refused with ``TOO_MANY_TRIES`` (and the moment it ends) while the user is blocked,
        for every code: otherwise a guesser could keep trying and read the answers."""
        now = self.now()
        blocked = await self._certificates.blocked_until(telegram_id, now)
        if blocked is not None:
            raise CertificateRefused(CertificateRefusal.TOO_MANY_TRIES, when=blocked)
        code = clean_code(text)
        certificate = await self._certificates.by_code(code) if code is not None else None
        verification = Verification.of(certificate) if certificate is not None else None
        if verification is None or certificate is None:
            count = await self._certificates.count_failure(telegram_id, now, self.policy)
            log.info("verification: unknown code from user %s (%d)", telegram_id, count.failures)
            if count.blocked_until is not None and count.blocked_until > now:
                raise CertificateRefused(
                    CertificateRefusal.TOO_MANY_TRIES, when=count.blocked_until
                )
            return None, None
        return verification, certificate.certificate_id

    # -- notifications ---------------------------------------------------------------------------

    async def get(self, certificate_id: int) -> Certificate | None:
        """For rendering notifications (the recipient was decided when it was queued)."""
        return await self._certificates.get(certificate_id)
