"""Shared fixtures: a private Redis for the session, a fresh database and app per test."""
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reflexion import clock, create_app
from reflexion.extensions import db as _db
from reflexion.redis_conn import PrivateRedis

from browser_helpers import AXE_RUN
from frozen import NOW


def pytest_addoption(parser):
    parser.addoption(
        "--clock-shift-days", type=float, default=0.0,
        help="run the whole suite (and every process it starts) with the wall clock moved this many days ahead",
    )


def pytest_configure(config):
    """Move the wall clock here and in every child process: no test may depend on the day it runs."""
    days = config.getoption("--clock-shift-days")
    if not days:
        return
    from timeshift.sitecustomize import move_clock

    seconds = days * 86400
    os.environ["REFLEXION_TEST_CLOCK_SHIFT"] = str(seconds)
    timeshift = str(Path(__file__).parent / "timeshift")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [timeshift, os.environ.get("PYTHONPATH")]))
    config._reflexion_travel = move_clock(seconds)


def pytest_report_header(config):
    days = config.getoption("--clock-shift-days")
    if days:
        return f"wall clock moved {days:g} days ahead: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server (found as ``make run`` finds it) on a private socket."""
    server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def compiled_templates(tmp_path_factory):
    """One folder of compiled templates for the whole run: each test's new app loads them instead
    of compiling every template again (as a restarted worker process does)."""
    return str(tmp_path_factory.mktemp("compiled-templates"))


@pytest.fixture
def app_config(tmp_path, redis_server, compiled_templates):
    """Settings for one test; tests may change the dict before ``app`` is built."""
    database_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "TEMPLATE_CACHE_DIR": compiled_templates,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_server.url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MIN_NOTICE_HOURS": 24.0,
        "HORIZON_DAYS": 56,
        "SESSION_MINUTES": 45.0,
        "NO_ANSWER_MINUTES": 15.0,
        "BUFFER_MINUTES": 15.0,
        "NTP_SERVERS": [],
        # The operator's notices are on by default (to the contact e-mail); tests that count
        # e-mails would count them too, so they are off unless a test turns them on.
        "MAIL_OPERATOR_NOTICE": "off",
        "PLATFORMS": "teams=kontakt@internet-reflexion.example",
    }


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory, redis_server):
    """An SQLite file holding the empty schema, made once: each test gets a copy of it (a file
    copy instead of creating every table and index again, and no drop at the end: the test's
    folder is thrown away)."""
    folder = tmp_path_factory.mktemp("schema")
    path = folder / "schema.sqlite3"
    schema_app = create_app({"TESTING": True, "SECRET_KEY": "schema", "INSTANCE_DIR": str(folder / "instance"),
                             "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "REDIS_URL": redis_server.url,
                             "NTP_SERVERS": []})
    with schema_app.app_context():
        _db.create_all()
        _db.session.remove()
        _db.engine.dispose()
    return path


@pytest.fixture
def app(app_config, redis_server, sqlite_schema):
    uri = app_config["SQLALCHEMY_DATABASE_URI"]
    copied = uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).exists()
    if copied:
        shutil.copyfile(sqlite_schema, uri[len("sqlite:///"):])
    app = create_app(app_config)
    with app.app_context():
        if not copied:  # PostgreSQL (TEST_DATABASE_URL) or a database a test chose itself
            _db.drop_all()
            _db.create_all()
        from reflexion.redis_conn import get_redis

        get_redis(app).flushdb()
        clock.forget_cached_offset()
        yield app
        _db.session.remove()
        if not copied:
            _db.drop_all()
        _db.engine.dispose()
    clock.freeze(None)
    clock.shift(__import__("datetime").timedelta(0))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def frozen_now():
    """Freeze the app clock; call with an aware datetime (default: Mon 2026-11-23 08:00 UTC)."""

    def freeze(instant=NOW):
        clock.freeze(instant)
        return instant

    yield freeze
    clock.freeze(None)


@pytest.fixture
def weekly_hours(db):
    """The default opening hours: Mon–Fri 09–12, Mon–Thu 14–18 (practice time)."""
    from reflexion.seed import DEFAULT_WEEK
    from reflexion.availability.models import WeeklyRule

    db.session.add_all(WeeklyRule(weekday=d, start=s, end=e) for d, s, e in DEFAULT_WEEK)
    db.session.commit()
    return DEFAULT_WEEK


@pytest.fixture
def make_booking(db):
    """Create a booking directly (bypassing the public rules and the lifecycle), in any state.

    Bookings past ``awaiting_payment`` get confirmation data; the access key is ``abcd-efgh-jkmn``.
    """
    from reflexion.booking import codes
    from reflexion.booking.models import Booking, Transition

    counter = {"n": 0}

    def make(start, *, state="awaiting_payment", name="Erika Muster", email="erika@example.org",
             call_handle="erika.muster", lang="de", access_key="abcd-efgh-jkmn", call_platform="teams"):
        from datetime import timedelta

        from reflexion.conversations.deadlines import session_end

        counter["n"] += 1
        now = clock.now()
        booking = Booking(
            ref=codes.new_reference(), access_key_hash=codes.hash_access_key(access_key), state=state,
            start_at=start, end_at=session_end(start), name=name, email=email, call_handle=call_handle,
            call_platform=call_platform, lang=lang, created_at=now, created_by="client", terms_version="test", terms_accepted_at=now,
            payment_deadline=now + timedelta(hours=48), fee_cents=9000, currency="EUR",
            ical_uid=f"test-{counter['n']}-{start.timestamp()}@reflexion",
        )
        if state not in ("awaiting_payment", "expired"):
            from reflexion.booking.payments import issue_confirmation_code

            issue_confirmation_code(booking)  # read it back with codes.confirmation_code_for(booking)
        db.session.add(booking)
        db.session.add(Transition(booking=booking, from_state="new", to_state=state, actor="client", at=now))
        db.session.commit()
        return booking

    return make


@pytest.fixture
def live_server(app):
    """The app served on loopback by a threaded WSGI server; yields the base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser_path():
    """The Chromium to drive (``REFLEXION_BROWSER``, ``PATH``, or Playwright's download); never a skip."""
    import provision

    try:
        found = provision.browser_executable()
    except provision.Missing as problem:
        pytest.fail(str(problem))
    if not found:
        pytest.fail("no Chromium for the browser tests: run `python tests/provision.py` (make test does) "
                    "or set REFLEXION_BROWSER")
    return found


@pytest.fixture
def browser(browser_path):
    """The system Chromium through Playwright, headless (never a downloaded browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=browser_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def make_app(app_config):
    """Build another app on the same database and Redis (e.g. with other settings); closed after the test."""
    built = []

    def make(**overrides):
        other = create_app({**app_config, **overrides})
        built.append(other)
        return other

    yield make
    for other in built:
        with other.app_context():
            _db.engine.dispose()


@pytest.fixture
def stripe_api():
    """A stand-in of Stripe's HTTP API on loopback (tests/stripe_standin.py); point the app at it
    with ``stripe_settings(stripe_api)`` in the module's ``app_config``."""
    from stripe_standin import StripeStandIn

    standin = StripeStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def jobs(app):
    """Jobs run in the test app, as the worker command arranges it."""
    from reflexion.jobs.queue import use_job_app

    use_job_app(app)
    yield app
    use_job_app(None)


OPERATOR_EMAIL = "op@example.org"
OPERATOR_PASSWORD = "correct horse battery"


@pytest.fixture
def operator_account(db):
    """An operator account (e-mail, password) to log in with."""
    from reflexion.operator.auth import create_operator

    create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    db.session.commit()
    return OPERATOR_EMAIL, OPERATOR_PASSWORD


@pytest.fixture
def log_in_operator(operator_account, live_server):
    """Log a browser page in as the operator through the login form; the page ends on the dashboard."""

    def log_in(page):
        email, password = operator_account
        page.goto(f"{live_server}/operator/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/operator/")
        return page

    return log_in


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's script (the npm build the pinned axe-playwright-python wheel ships; tests/provision.py)."""
    import provision  # only when a browser test runs, as in browser_path


    try:
        return provision.ensure_axe().read_text()
    except provision.Missing as problem:
        pytest.fail(str(problem))


@pytest.fixture
def axe_violations(axe_source):
    """Run axe-core on the page as it is now; returns its violations as short texts ([] when none)."""

    def run(page):
        page.evaluate(axe_source)  # through DevTools, so the page's CSP stays as it is
        return [f"{v['id']} ({v['impact']}) {v['nodes']}" for v in page.evaluate(AXE_RUN)]

    return run


@pytest.fixture(scope="session")
def shots_dir():
    """Where browser tests save screenshots: REFLEXION_SHOTS, else /tmp/shots."""
    folder = Path(os.environ.get("REFLEXION_SHOTS", "/tmp/shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
