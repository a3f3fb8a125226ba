"""One-click "add to calendar" links for Google Calendar and Outlook.com.

They carry exactly what the invite carries (title, place, description, start and end in UTC),
nothing more about the client.
"""
from datetime import timezone
from urllib.parse import urlencode

from reflexion.calendar.invite import _client_texts

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/deeplink/compose"


def _utc(instant, pattern):
    return instant.astimezone(timezone.utc).strftime(pattern)


def calendar_links(booking, lang: str) -> dict[str, str]:
    texts = _client_texts(booking, lang)
    google = GOOGLE + "?" + urlencode({
        "action": "TEMPLATE",
        "text": texts["summary"],
        "dates": f"{_utc(booking.start_at, '%Y%m%dT%H%M%SZ')}/{_utc(booking.end_at, '%Y%m%dT%H%M%SZ')}",
        "details": texts["description"],
        "location": texts["location"],
    })
    outlook = OUTLOOK + "?" + urlencode({
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": texts["summary"],
        "startdt": _utc(booking.start_at, "%Y-%m-%dT%H:%M:%SZ"),
        "enddt": _utc(booking.end_at, "%Y-%m-%dT%H:%M:%SZ"),
        "body": texts["description"],
        "location": texts["location"],
    })
    return {"google": google, "outlook": outlook}
