"""The instant most tests freeze the clock at (their "now"), defined once."""
from datetime import datetime, timezone

#: Monday 2026-11-23, 08:00 UTC = 09:00 MEZ (the default of the ``frozen_now`` fixture).
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
