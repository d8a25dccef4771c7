"""Which command menu fits a person — a volunteer's, an organizer's or an administrator's — and
which one their private chat shows (``users.menu_role``, see :mod:`handlers.commands`).

Apart from :class:`bot.services.staff.StaffService` because the middleware asks it on every
command: it reads no organization or activity model, so the first command after a start does
not load those (issue #14), and a command costs one short query.
"""

from __future__ import annotations

from collections.abc import Set

from bot.domain.users import MenuRole, User, is_administrator
from storage.users import UsersRepository

__all__ = ["MenuRoleService"]


class MenuRoleService:
    def __init__(self, users: UsersRepository, admin_ids: Set[int]) -> None:
        self._users = users
        self._admin_ids = admin_ids

    async def role_of(self, telegram_id: int, user: User | None = None) -> MenuRole:
        """``user``, when the caller already holds the row, saves reading it again.

        Administrators are ``ADMIN_IDS`` and those appointed (their stored role); organizers
        belong to an approved organization."""
        if user is None and telegram_id not in self._admin_ids:
            user = await self._users.get(telegram_id)
        if is_administrator(telegram_id, user, self._admin_ids):
            return MenuRole.ADMIN
        if await self._users.acts_for_an_organization(telegram_id):
            return MenuRole.ORGANIZER
        return MenuRole.VOLUNTEER

    async def change(self, user: User) -> MenuRole | None:
        """The menu to publish to this user's chat, or ``None`` when the published one fits
        (on every command: the middleware has just read the user row)."""
        role = await self.role_of(user.telegram_id, user)
        published = user.menu_role or MenuRole.VOLUNTEER
        return role if role is not published else None

    async def published(self, telegram_id: int, role: MenuRole) -> None:
        await self._users.set_menu_role(telegram_id, role)
