"""Contact details as promised in the consent text (issue #15 item 6).

The consent text says that only the organizers of the activities a volunteer signs up for see
their contact details. Members of the activity's organization therefore see full phone numbers;
anyone else who may open the roster (an administrator of the federation) sees them masked, and
revealing one number takes a typed reason that is recorded and shown to the volunteer in their
data export.
"""

from __future__ import annotations

from typing import Final

from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_

REVEAL_REASON_MIN = 4
REVEAL_REASON_MAX = 200

REVEAL_FORMAT: Final = N_(
    "Please type the line number, a space and why you need the number, for example: "
    "3 the venue changed and they do not answer messages"
)
REVEAL_NO_LINE: Final = N_("There is no line {line} on this roster (1 to {count}).")
REVEAL_REASON_LENGTH: Final = N_("Please give a reason of {min} to {max} characters.")

#: What a masked digit shows.
MASK = "*"


def mask_phone(phone: str | None) -> str | None:
    """The number with its middle digits hidden: ``+86 138 **** 5678``.

    The country code, the first three and the last four digits of the national number stay,
    enough to tell two people apart on a list, not enough to call anyone.
    """
    import phonenumbers  # ≈ 15 ms: loaded by the first number, not at start-up (#14)

    if not phone:
        return phone
    try:
        number = phonenumbers.parse(phone, None)
        country = f"+{number.country_code}"
        national = str(number.national_number)
    except phonenumbers.NumberParseException:
        country, national = "", "".join(ch for ch in phone if ch.isdigit())
    if len(national) <= 7:
        return " ".join(part for part in (country, MASK * len(national)) if part)
    hidden = MASK * (len(national) - 7)
    return " ".join(part for part in (country, national[:3], hidden, national[-4:]) if part)


def is_masked(phone: str) -> bool:
    return MASK in phone


def parse_reveal(text: str) -> tuple[int, str]:
    """``"<line> <reason>"`` typed by the viewer: the roster line and the cleaned reason."""
    head, _, rest = text.strip().partition(" ")
    if not head.isascii() or not head.isdigit() or len(head) > 5:
        raise InvalidInput(REVEAL_FORMAT)
    try:
        reason = clean_free_text(rest, min_length=REVEAL_REASON_MIN, max_length=REVEAL_REASON_MAX)
    except InvalidInput as error:
        if error.message.startswith("Your text contains"):
            raise
        raise InvalidInput(
            REVEAL_REASON_LENGTH, {"min": REVEAL_REASON_MIN, "max": REVEAL_REASON_MAX}
        ) from error
    return int(head), reason
