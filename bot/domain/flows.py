"""Which flow owns a user's typed input: the one stored record that routes text, pins and contacts.

Several flows ask for typed answers (registration, the organization application, ``/new``, a
cancellation reason, a broadcast, …). The flow that asked last owns the user's next typed
input; the others keep their drafts and step aside. The record lives in the database (not in a
process's memory), so a second bot process serving the same user continues the same form, and
a restart or crash right after a question was shown loses nothing.

```mermaid
stateDiagram-v2
    [*] --> owned: a flow asks a question (take)
    owned --> owned: the flow asks its next question (take: version + 1)
    owned --> owned: another flow asks (take: the newer flow owns the input)
    owned --> [*]: the flow finishes or is cancelled (release, only by its owner)
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

#: A flow's small context is JSON of at most this many characters (drafts hold whole forms).
MAX_STATE_CHARS: Final = 2000

FlowState = dict[str, int | str | bool | list[int] | list[str] | None]


class FlowOwner(BaseModel):
    """The flow that reads this user's next typed input, and what it asked."""

    model_config = ConfigDict(frozen=True)

    telegram_id: int
    flow: str
    waiting_for: str
    state: FlowState = Field(default_factory=dict)
    version: int
    updated_at: datetime

    def int_state(self, key: str) -> int | None:
        """A whole number from the state, or ``None`` (absent or of another type)."""
        value = self.state.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def str_state(self, key: str) -> str | None:
        value = self.state.get(key)
        return value if isinstance(value, str) else None
