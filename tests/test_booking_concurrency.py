"""Never two bookings for one slot: many concurrent POSTs against the real app on loopback."""
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from reflexion.booking.models import Booking
from frozen import NOW


SLOT = "2026-11-25T08:00:00Z"


@pytest.fixture
def open_week(weekly_hours, frozen_now):
    frozen_now(NOW)


def _post(base, n):
    data = urllib.parse.urlencode({
        "name": f"Client {n}", "email": f"client{n}@example.org", "call_handle": f"client.{n}@example.org",
        "accept_terms": "y", "early_start": "y",
    }).encode()
    request = urllib.request.Request(f"{base}/de/book/{SLOT}", data=data, method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_many_concurrent_posts_give_exactly_one_booking(open_week, live_server, db):
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda n: _post(live_server, n), range(32)))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(303) == 1, statuses
    assert statuses.count(409) == 31, statuses
    losers = [body for status, body in results if status == 409]
    assert all("data-unavailable=\"taken\"" in body for body in losers)
    assert all("Internal" not in body and "Traceback" not in body for body in losers)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_operator_bookings_at_overlapping_instants_never_both_succeed(app, db, frozen_now):
    """Off-grid starts 5 minutes apart (all overlapping) race in threads: the schedule lock lets one through."""
    from datetime import timedelta

    from reflexion.booking import operations

    frozen_now(NOW)
    base = NOW + timedelta(days=3, hours=8)
    outcomes = []
    barrier = threading.Barrier(6)

    def attempt(i):
        with app.app_context():
            barrier.wait()
            try:
                operations.book_as_operator(base + timedelta(minutes=5 * i), name=f"Client {i}",
                                           email=f"c{i}@example.org", call_handle=f"client.{i}@example.org")
                db.session.commit()
                outcomes.append("booked")
            except operations.SlotTaken:
                db.session.rollback()
                outcomes.append("taken")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked"] + ["taken"] * 5
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def _book_in_own_process(config, slot_iso, n, barrier):
    """Run in a separate process: its own app, engine and connections, like a gunicorn worker."""
    from reflexion import clock, create_app
    from reflexion.availability.slots import parse_slot_key
    from reflexion.booking import operations
    from reflexion.extensions import db

    app = create_app(config)
    with app.app_context():
        clock.freeze(NOW)
        barrier.wait(30)
        try:
            operations.book_slot(parse_slot_key(slot_iso), name=f"Client {n}", email=f"p{n}@example.org",
                                 call_handle=f"proc.{n}@example.org", lang="de", accepted_terms=True,
                                 early_start_requested=True)
            db.session.commit()
            return "booked"
        except operations.SlotTaken:
            db.session.rollback()
            return "taken"


def test_separate_processes_racing_for_one_slot_give_one_booking(app, app_config, db, open_week):
    """Real processes (own engines, as gunicorn workers have) race for one slot: one wins."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(6)
        with context.Pool(6) as pool:
            outcomes = pool.starmap(_book_in_own_process, [(app_config, SLOT, n, barrier) for n in range(6)])
    assert sorted(outcomes) == ["booked"] + ["taken"] * 5
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1
