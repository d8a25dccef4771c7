"""Services: the use cases handlers call. They apply the rules of :mod:`bot.domain` and read
and write through the repositories of :mod:`storage`, which are injected by the composition
root (:mod:`bot.app`). No Telegram types here."""
