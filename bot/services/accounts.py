"""Who is talking to the bot: keeping the users table current and resolving their language."""

from __future__ import annotations

from collections.abc import Set

from bot.clock import Clock
from bot.domain.users import Language, Role, TelegramIdentity, User
from bot.i18n import resolve_language
from storage.outbox import OutboxRepository
from storage.users import UsersRepository


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
        """
        user = await self._users.touch(identity, self._clock())
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
