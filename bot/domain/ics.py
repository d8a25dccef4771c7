"""An activity as an iCalendar (RFC 5545) file, for "Add to calendar".

Built with the ``icalendar`` library. Times are written in UTC, which every calendar application
converts to the reader's own zone. The UID is stable per activity, so importing the file again
after a change updates the event instead of duplicating it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.activities import Activity

PRODUCT_ID = "-//Zhiyuan//Zhiyuan volunteer bot//ZH"
UID_DOMAIN = "zhiyuan.volunteer"
ALARM_BEFORE = timedelta(hours=2)


def activity_uid(activity_id: int) -> str:
    return f"activity-{activity_id}@{UID_DOMAIN}"


def activity_ics(
    activity: Activity,
    *,
    now: datetime,
    description: str,
    link: str | None = None,
    alarm_text: str,
) -> bytes:
    """The ``.ics`` bytes for one activity. ``description`` and ``alarm_text`` come localized
    from the caller (this module knows no languages); ``link`` is the activity's deep link."""
    # Imported when first needed: a slow import the bot's start-up does not need.
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", activity_uid(activity.activity_id))
    event.add("dtstamp", now)
    event.add("dtstart", activity.starts_at.astimezone(UTC))
    event.add("dtend", activity.ends_at.astimezone(UTC))
    event.add("summary", activity.title)
    event.add("location", activity.place)
    event.add("description", description)
    event.add(
        "organizer", f"MAILTO:noreply@{UID_DOMAIN}", parameters={"CN": activity.organization_name}
    )
    if activity.latitude is not None and activity.longitude is not None:
        event.add("geo", (activity.latitude, activity.longitude))
    if link is not None:
        event.add("url", link)
    event.add("status", "CANCELLED" if activity.status == "cancelled" else "CONFIRMED")

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", alarm_text)
    event.add_component(alarm)

    calendar.add_component(event)
    return bytes(calendar.to_ical())
