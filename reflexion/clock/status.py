"""How trustworthy the clock is right now, for /healthz, the panel and the footer."""
from datetime import datetime

from reflexion import clock

STALE_AFTER_SECONDS = 3600


def summary() -> dict:
    """Return offset, age, server and whether the check is stale."""
    last = clock.last_check()
    if not last:
        return {"checked": False, "stale": True, "offset_ms": 0.0, "server": None, "checked_at": None,
                "age_seconds": None}
    checked_at = datetime.fromisoformat(last["checked_at"])
    age = (clock.now() - checked_at).total_seconds()
    return {
        "checked": True,
        "stale": age > STALE_AFTER_SECONDS or bool(last.get("failing_since")),
        "offset_ms": round(last["offset"] * 1000, 1),
        "server": last.get("server"),
        "checked_at": last["checked_at"],
        "age_seconds": round(age),
    }
