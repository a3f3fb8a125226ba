"""Benchmark: server time of the public week page and of the client's booking page (confirmed).

In-process (Flask's test client, one process), CPU time per request (``time.process_time``:
steadier than wall time on a shared machine), production-like settings (rate limiting on,
no TESTING shortcuts in the views). The week page is measured with 500 and with 5,000
bookings in the database (it should stay flat); the booking page for a confirmed booking in a
fresh process's first view and in later views.

Run: ``.venv/bin/python bench/pages.py [--requests 200] [--profile week|booking]`` (``--profile``
prints a pyinstrument profile of that page, from the ``bench`` extra). Takes about 20 s.
"""
import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

from _common import temp_instance

from reflexion import clock, create_app
from reflexion.availability import slots
from reflexion.availability.models import WeeklyRule
from reflexion.booking import codes
from reflexion.booking.models import Booking
from reflexion.booking.payments import issue_confirmation_code
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.redis_conn import PrivateRedis
from reflexion.seed import DEFAULT_WEEK

NOW = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
KEY = "abcd-efgh-jkmn"


def _ref(i: int) -> str:
    """A valid booking reference for number ``i`` (R- and six letters of the reference alphabet)."""
    letters = ""
    for _ in range(6):
        i, digit = divmod(i, len(codes.REF_ALPHABET))
        letters = codes.REF_ALPHABET[digit] + letters
    return "R-" + letters


def seed(total: int):
    """``total`` bookings: every second offered slot in the horizon live, the rest in the past."""
    db.drop_all()
    db.create_all()
    db.session.add_all(WeeklyRule(weekday=d, start=s, end=e) for d, s, e in DEFAULT_WEEK)
    db.session.commit()
    zone = practice_zone()
    future = slots.candidate_slots(NOW.date(), NOW.date() + timedelta(days=56), zone)[::2]
    past = slots.candidate_slots(date(2019, 1, 1), NOW.date() - timedelta(days=1), zone)
    starts = [(s.start, "confirmed") for s in future]
    starts += [(s.start, "completed") for s in past[: total - len(starts)]]
    key_hash = codes.hash_access_key(KEY)
    rows = [dict(ref=_ref(i), access_key_hash=key_hash, state=state, start_at=start,
                 end_at=start + timedelta(minutes=45), name="Bench", email="bench@example.org",
                 call_handle="bench", lang="de", created_at=NOW, created_by="client",
                 fee_cents=9000, currency="EUR", session_minutes=45, no_answer_minutes=15,
                 ical_uid=f"bench-{i}@reflexion", ical_sequence=0,
                 verify_failures=0) for i, (start, state) in enumerate(starts)]
    db.session.execute(Booking.__table__.insert(), rows)
    db.session.commit()
    booking = db.session.scalar(db.select(Booking).where(Booking.state == "confirmed").order_by(Booking.id))
    issue_confirmation_code(booking)
    db.session.commit()
    return booking.ref


def cpu_ms(client, url, n):
    timings = []
    for _ in range(n):
        started = time.process_time()
        response = client.get(url)
        timings.append(time.process_time() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings) * 1000, statistics.mean(timings) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", choices=["week", "booking"])
    args = parser.parse_args(argv)
    instance = temp_instance()
    redis = PrivateRedis(instance / "redis").start()
    try:
        return _run(args, instance, redis)
    finally:
        redis.stop()


def _run(args, instance, redis):
    app = create_app({"INSTANCE_DIR": str(instance),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                      "REDIS_URL": redis.url})
    clock.freeze(NOW)
    results = {}
    for total in (500, 5000):
        with app.app_context():
            ref = seed(total)
        client = app.test_client()
        client.get("/de/book")  # warm caches, templates
        results[f"week, {total} bookings"] = cpu_ms(client, "/de/book", args.requests)
        monday = NOW.date() + timedelta(days=14)
        results[f"other week, {total} bookings"] = cpu_ms(client, f"/de/book?week={monday.isoformat()}",
                                                          args.requests)
    # The booking page: open it with the access key once (the session remembers it), then view.
    client = app.test_client()
    page = f"/de/booking/{ref}"
    with client.session_transaction() as browser_session:
        browser_session["booking_access"] = [ref]  # as after opening it with the access key
    started = time.process_time()
    first = client.get(page)
    results["booking page (confirmed), first view"] = ((time.process_time() - started) * 1000,) * 2
    with app.app_context():
        shown = codes.confirmation_code_for(db.session.scalar(db.select(Booking).where(Booking.ref == ref)))
    assert first.status_code == 200 and shown.encode() in first.data, first.status_code
    results["booking page (confirmed), later views"] = cpu_ms(client, page, args.requests)
    # A new worker process (gunicorn restarts them): a new app finds the compiled templates on disk.
    restarted = create_app(dict(app.config))
    client = restarted.test_client()
    with client.session_transaction() as browser_session:
        browser_session["booking_access"] = [ref]
    started = time.process_time()
    assert client.get(page).status_code == 200
    results["booking page (confirmed), first view, new worker"] = ((time.process_time() - started) * 1000,) * 2
    if args.profile:
        from pyinstrument import Profiler  # the bench extra: only when asked for

        url = "/de/book" if args.profile == "week" else page
        profiler = Profiler(interval=0.0002)
        with profiler:
            for _ in range(args.requests):
                client.get(url)
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    clock.freeze(None)
    for name, (median, mean) in results.items():
        print(f"{name:52s} CPU median {median:6.2f} ms, mean {mean:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
