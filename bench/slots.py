"""Benchmark: free-slot computation over an 8-week horizon with 5,000 existing bookings.

Run: ``.venv/bin/python bench/slots.py`` (prints a small report; asserts nothing).
"""
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

from _common import temp_instance

from reflexion import clock, create_app
from reflexion.availability import slots as slot_rules
from reflexion.booking import codes
from reflexion.booking.models import Booking
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.seed import DEFAULT_WEEK
from reflexion.availability.models import WeeklyRule

BOOKINGS = 5000
NOW = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)


def seed(app):
    """5,000 bookings: every second offered slot in the horizon live, the rest in the past four years."""
    db.create_all()
    db.session.add_all(WeeklyRule(weekday=d, start=s, end=e) for d, s, e in DEFAULT_WEEK)
    db.session.commit()
    zone = practice_zone()
    future = slot_rules.candidate_slots(NOW.date(), NOW.date() + timedelta(days=56), zone)[::2]
    past = slot_rules.candidate_slots(date(2023, 1, 1), NOW.date() - timedelta(days=1), zone)
    starts = [(s.start, "confirmed") for s in future]
    starts += [(s.start, "completed") for s in past[: BOOKINGS - len(starts)]]
    key_hash = codes.hash_access_key("abcd-efgh-jkmn")  # one hash: hashing is not what we measure
    rows = []
    for i, (start, state) in enumerate(starts):
        rows.append(dict(ref=f"R-{i:06d}", access_key_hash=key_hash, state=state, start_at=start,
                         end_at=start + timedelta(minutes=45), name="Bench", email="bench@example.org",
                         call_handle="bench", lang="de", created_at=NOW, created_by="client",
                         fee_cents=9000, currency="EUR", session_minutes=45, no_answer_minutes=15,
                         ical_uid=f"bench-{i}@reflexion", ical_sequence=0,
                         verify_failures=0))
    db.session.execute(Booking.__table__.insert(), rows)
    db.session.commit()
    return len(rows), len(future)


def forget_kept_slots(app):
    app.extensions.pop("reflexion_slot_cache", None)


def main():
    instance = temp_instance()
    app = create_app({"INSTANCE_DIR": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                      "REDIS_URL": "redis://127.0.0.1:1/0", "TESTING": True, "RATELIMIT_ENABLED": False})
    with app.test_request_context("/de/book"):
        clock.freeze(NOW)
        total, live = seed(app)
        zone = practice_zone()
        first, last = NOW.date(), NOW.date() + timedelta(days=56)
        timings, week, kept = [], [], []
        for _ in range(20):
            forget_kept_slots(app)  # computed, as after a booking or a change of the opening hours
            started = time.perf_counter()
            free = slot_rules.free_slots(first, last, NOW, zone)
            timings.append(time.perf_counter() - started)
        for _ in range(50):
            forget_kept_slots(app)
            started = time.perf_counter()
            slot_rules.free_slots(first, first + timedelta(days=6), NOW, zone)
            week.append(time.perf_counter() - started)
        for _ in range(50):  # remembered (reflexion/availability/slot_cache.py): one version read
            started = time.perf_counter()
            slot_rules.free_slots(first, first + timedelta(days=6), NOW, zone)
            kept.append(time.perf_counter() - started)
    client = app.test_client()
    pages = []
    for i in range(30):
        monday = (first - timedelta(days=first.weekday())) + timedelta(weeks=i % 8)
        started = time.perf_counter()
        response = client.get(f"/de/book?week={monday.isoformat()}")
        pages.append(time.perf_counter() - started)
        assert response.status_code == 200
    print(f"bookings in database: {total} ({live} live in the horizon)")
    print(f"free slots over 8 weeks: {len(free)}")
    print(f"free_slots(8 weeks): median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms")
    print(f"free_slots(1 week):  median {statistics.median(week) * 1000:.2f} ms computed, "
          f"{statistics.median(kept) * 1000:.2f} ms remembered")
    print(f"GET /de/book?week=…: median {statistics.median(pages) * 1000:.1f} ms (test client, one process)")
    clock.freeze(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
