"""Zhiyuan (志愿): a Telegram bot for volunteer recruitment and matching."""

__version__ = "0.1.0"
