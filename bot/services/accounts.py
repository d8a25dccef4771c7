"""Who is talking to the bot: keeping the users table current and resolving their language."""

from __future__ import annotations

from collections.abc import Set
from datetime import timedelta

from bot.clock import Clock
from bot.domain.users import Language, Role, TelegramIdentity, User
from bot.i18n import resolve_language
from storage.outbox import OutboxRepository
from storage.users import UsersRepository

#: How stale "last seen" may get before an update writes it again.
TOUCH_EVERY = timedelta(minutes=5)


def _unchanged(user: User, identity: TelegramIdentity) -> bool:
    return (
        user.first_name == identity.first_name
        and user.last_name == identity.last_name
        and user.username == identity.username
        and identity.language_code in (None, user.telegram_language_code)
    )


class AccountService:
    def __init__(
        self,
        users: UsersRepository,
        outbox: OutboxRepository,
        clock: Clock,
        admin_ids: Set[int],
        default_language: Language,
    ) -> None:
        self._users = users
        self._outbox = outbox
        self._clock = clock
        self._admin_ids = admin_ids
        self._default_language = default_language

    async def seen(self, identity: TelegramIdentity) -> User:
        """Record an interaction (called for every update) and return the current user.

        Writing again also makes a user reachable again after they had blocked the bot.
        Administrators listed in ``ADMIN_IDS`` get the admin role on their first interaction.

        A user seen within :data:`TOUCH_EVERY` whose name, username and language are unchanged
        is read, not written: a write transaction on every update serialized all users on
        SQLite's one writer (issue #14); "last seen" only needs minutes.
        """
        now = self._clock()
        known = await self._users.get(identity.telegram_id)
        if (
            known is not None
            and known.is_reachable
            and timedelta(0) <= now - known.last_seen_at < TOUCH_EVERY
            and _unchanged(known, identity)
            and (identity.telegram_id not in self._admin_ids or known.role is Role.ADMIN)
        ):
            return known
        user = await self._users.touch(identity, now)
        if identity.telegram_id in self._admin_ids and user.role is not Role.ADMIN:
            await self._users.set_role(identity.telegram_id, Role.ADMIN)
            user = user.model_copy(update={"role": Role.ADMIN})
        return user

    async def get(self, telegram_id: int) -> User | None:
        return await self._users.get(telegram_id)

    def language_of(self, user: User) -> Language:
        return resolve_language(user.language, user.telegram_language_code, self._default_language)

    def language_for_code(self, telegram_code: str | None) -> Language:
        return resolve_language(None, telegram_code, self._default_language)

    async def choose_language(self, telegram_id: int, language: Language) -> None:
        await self._users.set_language(telegram_id, language)

    async def blocked_bot(self, telegram_id: int) -> int:
        """Telegram told us (403 or ``my_chat_member`` kicked) that this user blocked the bot:
        mark them unreachable and drop what is pending for them (every later send would fail
        with 403 one at a time). Writing to the bot again makes them reachable (:meth:`seen`);
        the dropped rows stay dropped, being out of date by then. Returns how many were
        dropped."""
        now = self._clock()
        await self._users.mark_unreachable(telegram_id, now)
        return await self._outbox.drop_pending_for(telegram_id, now, "blocked the bot")
