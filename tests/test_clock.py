"""The NTP-checked clock, against real NTP responders on loopback (tests/ntp_server.py).

Nothing here uses the internet: ``NTP_SERVERS`` always lists loopback responders.
"""
import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import render_template
from sqlalchemy import select

from reflexion import clock
from reflexion.clock import ntp
from reflexion.clock.models import ClockCheck
from reflexion.clock.status import summary

sys.path.insert(0, str(Path(__file__).parent))
from ntp_server import NTPResponder  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Loopback answers arrive within a millisecond: the offset must be right within a few ms
#: (on a very busy machine within the NTP error bound, half the measured round trip).
TOLERANCE = 0.005
#: now() against a separate read of the system clock: two reads, maybe a context switch apart.
GAP_TOLERANCE = 0.05


@pytest.fixture
def responders():
    """Start NTP responders on loopback: ``responders(offset=90, ...)``; all stopped afterwards."""
    started = []

    def start(**behaviour):
        server = NTPResponder(**behaviour).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def use_servers(app):
    """Point the app at the given responders, with a short timeout for the silent ones."""

    def use(*servers):
        app.config["NTP_SERVERS"] = [s.spec for s in servers]
        app.config["NTP_TIMEOUT_SECONDS"] = 1.0

    return use


def _check(app, db):
    result = ntp.check(app)
    db.session.commit()
    return result


def _system_gap():
    """Checked time minus system time, in seconds."""
    return (clock.now() - clock.system_utc()).total_seconds()


def assert_measured(answer, expected):
    """The measured offset is ``expected`` within a few ms (or within the NTP error bound)."""
    assert abs(answer.offset - expected) <= max(TOLERANCE, answer.delay / 2 + 0.001), answer


def _closed_port():
    """A loopback UDP port nobody listens on."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def test_offset_of_a_server_90_s_ahead_is_measured_within_a_few_ms(app, db, responders, use_servers):
    server = responders(offset=90)
    use_servers(server)
    result = _check(app, db)
    assert result.ok and server.requests == 1
    assert_measured(result.chosen, 90)
    assert 0 <= result.chosen.delay < 0.05
    assert result.chosen.stratum == 1
    stored = json.loads(app.extensions["reflexion_redis"].get(clock.REDIS_KEY))
    assert stored["server"] == server.spec
    assert stored["offset"] == result.chosen.offset
    assert set(stored) >= {"offset", "delay", "stratum", "server", "checked_at"}
    assert "failing_since" not in stored
    row = db.session.scalars(select(ClockCheck)).one()
    assert row.ok and row.server == server.spec and row.stratum == 1
    assert row.offset_seconds == result.chosen.offset
    # checked_at is the checked instant the answer arrived, not the system's.
    assert (row.checked_at - clock.system_utc()).total_seconds() == pytest.approx(90, abs=0.5)


def test_offset_of_a_server_30_s_behind_is_measured_within_a_few_ms(app, db, responders, use_servers):
    server = responders(offset=-30)
    use_servers(server)
    assert_measured(_check(app, db).chosen, -30)
    assert _system_gap() == pytest.approx(-30, abs=GAP_TOLERANCE)


def test_now_is_system_time_plus_the_measured_offset(app, db, responders, use_servers):
    assert _system_gap() == pytest.approx(0, abs=GAP_TOLERANCE)
    use_servers(responders(offset=90))
    _check(app, db)
    assert _system_gap() == pytest.approx(90, abs=GAP_TOLERANCE)
    assert abs(clock.to_system_time(clock.now()) - clock.system_utc()) < timedelta(seconds=GAP_TOLERANCE)
    # Readers that only see the stored offset (another process) agree.
    clock.forget_cached_offset()
    clock._cache.app = None
    assert _system_gap() == pytest.approx(90, abs=GAP_TOLERANCE)


def test_a_later_step_of_the_system_clock_does_not_move_business_time(app, db, responders, use_servers,
                                                                        monkeypatch, caplog):
    use_servers(responders(offset=90))
    _check(app, db)
    real_system_utc = clock.system_utc
    monkeypatch.setattr(clock, "system_utc", lambda: real_system_utc() + timedelta(seconds=10))
    clock.forget_cached_offset()
    with caplog.at_level(logging.WARNING, logger="reflexion.clock"):
        checked = clock.now()
    # Anchored at the check: still real time + 90 s, not the stepped system time + 90 s.
    assert (checked - real_system_utc()).total_seconds() == pytest.approx(90, abs=GAP_TOLERANCE)
    assert "system clock moved by +10" in caplog.text


def test_a_deadline_becomes_due_when_the_checked_clock_is_90_s_ahead(app, db, responders, use_servers,
                                                                       make_booking):
    from reflexion.booking.models import Transition
    from reflexion.jobs.reconcile import reconcile
    from reflexion.conversations.deadlines import no_answer_deadline, no_answer_window
    from reflexion.conversations.deadlines import due_transitions

    # Started, not answered; by the system clock the no-answer deadline is a minute away.
    start = clock.system_utc() - no_answer_window() + timedelta(seconds=60)
    booking = make_booking(start, state="due")
    deadline = no_answer_deadline(booking)
    assert due_transitions(booking, clock.now()) == []
    assert reconcile() == 0

    use_servers(responders(offset=90))
    _check(app, db)
    assert [(to.value, at) for to, at in due_transitions(booking, clock.now())] == [("no_show", deadline)]
    assert reconcile() == 1
    db.session.commit()
    assert booking.state == "no_show"
    entry = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id,
                                                        Transition.to_state == "no_show")).one()
    assert entry.at == deadline  # recorded at the deadline, by the checked clock


def test_the_server_with_the_lowest_delay_is_chosen(app, db, responders, use_servers):
    slow = responders(offset=10, delay=0.15)
    fast = responders(offset=20)
    use_servers(slow, fast)
    result = _check(app, db)
    assert {a.server for a in result.answers} == {slow.spec, fast.spec}
    slow_answer = next(a for a in result.answers if a.server == slow.spec)
    assert slow_answer.delay == pytest.approx(0.15, abs=0.05)
    assert_measured(slow_answer, 10)  # a symmetric delay leaves the offset right
    assert result.chosen.server == fast.spec
    assert_measured(result.chosen, 20)
    assert db.session.scalars(select(ClockCheck)).one().server == fast.spec


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ({"kiss": "RATE"}, "kiss-of-death RATE"),
        ({"kiss": "DENY"}, "kiss-of-death DENY"),
        ({"leap": 3}, "leap indicator 3"),
        ({"stratum": 16}, "stratum 16"),
        ({"silent": True}, "no answer (timeout)"),
        ({"wrong_originate": True}, "originate"),
        ({"root_dispersion": 3.0}, "root distance"),
    ],
)
def test_a_bad_server_is_skipped_and_a_good_one_used(app, db, responders, use_servers, behaviour, reason):
    bad = responders(offset=-600, **behaviour)
    good = responders(offset=5)
    use_servers(bad, good)
    result = _check(app, db)
    assert bad.requests == 1  # it was asked ...
    assert reason in result.failures[bad.spec]  # ... and its answer thrown away
    assert result.chosen.server == good.spec
    assert _system_gap() == pytest.approx(5, abs=GAP_TOLERANCE)


def test_all_servers_failing_keeps_the_last_offset_and_marks_it_stale(app, db, responders, use_servers):
    good = responders(offset=90)
    use_servers(good)
    first = _check(app, db)
    good.silent = True
    use_servers(good, responders(kiss="DENY"), responders(leap=3))
    failed = _check(app, db)
    assert not failed.ok and len(failed.failures) == 3
    assert _system_gap() == pytest.approx(90, abs=GAP_TOLERANCE)  # last good offset still in use
    status = failed.status
    assert status["offset"] == first.status["offset"] and status["server"] == good.spec
    assert status["checked_at"] == first.status["checked_at"]
    assert status["failing_since"] and "kiss-of-death DENY" in status["last_error"]
    info = summary()
    assert info["stale"] and info["checked"] and info["failing_since"] == status["failing_since"]
    assert info["offset_ms"] == round(first.chosen.offset * 1000, 1)
    # A second failure keeps the first failure's instant; a good answer clears it.
    again = _check(app, db)
    assert again.status["failing_since"] == status["failing_since"]
    rows = db.session.scalars(select(ClockCheck).order_by(ClockCheck.id)).all()
    assert [r.ok for r in rows] == [True, False, False]
    assert rows[1].server is None and "no answer" in rows[1].error
    good.silent = False
    use_servers(good)
    recovered = _check(app, db)
    assert recovered.ok and "failing_since" not in recovered.status and not summary()["stale"]


def test_failing_without_any_good_check_uses_system_time_and_says_so(app, db, responders, use_servers):
    use_servers(responders(leap=3))
    result = _check(app, db)
    assert not result.ok
    assert result.status["offset"] == 0.0 and result.status["checked_at"] is None
    info = summary()
    assert not info["checked"] and info["stale"] and info["failing_since"]
    assert info["warnings"] == ["unchecked-over-an-hour"]
    assert _system_gap() == pytest.approx(0, abs=GAP_TOLERANCE)


def test_without_configured_servers_nothing_is_asked_or_stored(app, db):
    app.config["NTP_SERVERS"] = []
    result = ntp.check(app)
    assert not result.configured and not result.ok
    assert db.session.scalars(select(ClockCheck)).all() == []
    assert clock.last_check() is None


def test_a_lost_redis_key_is_restored_from_the_check_history_at_worker_start(app, db, responders, use_servers):
    from reflexion.jobs import clock_jobs

    use_servers(responders(offset=90))
    _check(app, db)
    app.extensions["reflexion_redis"].delete(clock.REDIS_KEY)
    clock.forget_cached_offset()
    clock._cache.app = None
    assert _system_gap() == pytest.approx(0, abs=GAP_TOLERANCE)  # web requests read only Redis
    use_servers()  # no servers at this start: the history alone must carry the offset
    clock_jobs.start(app)
    clock._cache.app = None
    assert _system_gap() == pytest.approx(90, abs=GAP_TOLERANCE)
    assert summary()["checked"]


def test_stale_after_two_missed_checks_and_warned_after_an_hour(app, db, responders, use_servers, frozen_now):
    use_servers(responders(offset=0.002))
    checked_at = _check(app, db).chosen.checked_at
    frozen_now(checked_at + timedelta(minutes=20))
    assert summary()["stale"] is False and summary()["warnings"] == []
    frozen_now(checked_at + timedelta(minutes=40))
    assert summary()["stale"] is True and summary()["warnings"] == []
    frozen_now(checked_at + timedelta(minutes=61))
    assert summary()["warnings"] == ["unchecked-over-an-hour"]


@pytest.mark.parametrize(
    ("server", "parsed"),
    [
        ("ptbtime1.ptb.de", ("ptbtime1.ptb.de", 123)),
        ("127.0.0.1:12345", ("127.0.0.1", 12345)),
        ("[::1]:1234", ("::1", 1234)),
        ("[::1]", ("::1", 123)),
        ("2001:db8::1", ("2001:db8::1", 123)),
    ],
)
def test_server_entries_are_host_with_optional_port(server, parsed):
    assert ntp.parse_server(server) == parsed


def test_a_bad_server_entry_is_a_failure_not_a_crash(app, db, responders, use_servers):
    good = responders(offset=1.5)
    app.config["NTP_SERVERS"] = ["127.0.0.1:notaport", good.spec]
    result = _check(app, db)
    assert "bad port" in result.failures["127.0.0.1:notaport"]
    assert result.chosen.server == good.spec


# -- where people look --------------------------------------------------------------

def test_cli_check_prints_server_offset_delay_and_stratum(app, runner, responders, use_servers):
    server = responders(offset=90, stratum=2)
    use_servers(server)
    out = runner.invoke(args=["clock", "check"])
    assert out.exit_code == 0, out.output
    match = re.search(r"Checked against (\S+): offset \+(\d+\.\d) ms, delay (\d+\.\d) ms, stratum (\d+)", out.output)
    assert match, out.output
    assert match.group(1) == server.spec and match.group(4) == "2"
    assert float(match.group(2)) == pytest.approx(90000, abs=GAP_TOLERANCE * 1000)


def test_cli_check_fails_with_exit_code_1_when_all_servers_fail(app, db, runner, responders, use_servers):
    use_servers(responders(offset=90))
    _check(app, db)
    bad = responders(kiss="RATE")
    use_servers(bad)
    out = runner.invoke(args=["clock", "check"])
    assert out.exit_code == 1
    assert f"skipped: {bad.spec}: kiss-of-death RATE" in out.output
    assert "All time servers failed; keeping offset +90" in out.output


def test_cli_check_in_another_process_sets_the_offset_for_this_one(app, app_config, responders):
    """``flask --app wsgi clock check`` for real; this process then reads the stored offset."""
    server = responders(offset=-45)
    env = dict(os.environ, DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app_config["REDIS_URL"],
               REFLEXION_INSTANCE=app_config["INSTANCE_DIR"], SECRET_KEY="test", REFLEXION_NTP_SERVERS=server.spec,
               REFLEXION_NTP_TIMEOUT="1")
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "clock", "check"], cwd=PROJECT_ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    match = re.search(rf"Checked against {re.escape(server.spec)}: offset (-\d+\.\d) ms", out.stdout)
    assert match and float(match.group(1)) == pytest.approx(-45000, abs=GAP_TOLERANCE * 1000), out.stdout
    clock.forget_cached_offset()
    assert _system_gap() == pytest.approx(-45, abs=GAP_TOLERANCE)
    assert summary()["server"] == server.spec


def test_healthz_reports_offset_age_and_staleness(app, db, client, responders, use_servers):
    assert client.get("/healthz").get_json()["clock"]["checked"] is False
    server = responders(offset=90)
    use_servers(server)
    offset_ms = round(_check(app, db).chosen.offset * 1000, 1)
    info = client.get("/healthz").get_json()["clock"]
    assert info["server"] == server.spec and info["stale"] is False and info["age_seconds"] == 0
    assert info["offset_ms"] == offset_ms and abs(offset_ms - 90000) < TOLERANCE * 1000
    assert info["warnings"] == ["large-offset"]
    server.kiss = "RATE"
    _check(app, db)
    info = client.get("/healthz").get_json()["clock"]
    assert info["stale"] is True and info["failing_since"] and "kiss-of-death RATE" in info["last_error"]
    assert info["offset_ms"] == offset_ms


def _footer_note(client, lang):
    page = client.get(f"/{lang}/").get_data(as_text=True)
    match = re.search(r'<p class="clock-note-text"([^>]*)>(.*?)</p>', page, re.S)
    attributes = dict(re.findall(r'(data-clock-[a-z-]+)="([^"]*)"', match.group(1)))
    return attributes, " ".join(match.group(2).split())


@pytest.mark.parametrize(("lang", "zone"), [("de", r"MES?Z"), ("sv", r"CES?T")])
def test_footer_note_names_the_time_server_in_both_languages(app, db, client, responders, use_servers,
                                                            frozen_now, lang, zone):
    """Checked against which server, how long ago (the texts themselves may be translated)."""
    attributes, text = _footer_note(client, lang)
    assert attributes["data-clock-note"] == "never" and text
    server = responders(offset=0.001)
    use_servers(server)
    checked_at = _check(app, db).chosen.checked_at
    attributes, text = _footer_note(client, lang)
    assert attributes["data-clock-note"] == "just-now" and attributes["data-clock-server"] == server.spec
    assert server.spec in text
    frozen_now(checked_at + timedelta(minutes=7, seconds=5))
    attributes, text = _footer_note(client, lang)
    assert attributes["data-clock-note"] == "minutes" and attributes["data-clock-age-minutes"] == "7"
    assert server.spec in text and re.search(r"\b7\b", text)
    frozen_now(checked_at + timedelta(hours=3))
    attributes, text = _footer_note(client, lang)
    assert attributes["data-clock-note"] == "since"
    assert server.spec in text and re.search(rf"\b{zone}\b", text), text  # the instant, with its zone
    assert "erika" not in text.lower() and "@" not in text


def _widget(app, lang="de"):
    with app.test_request_context("/operator/"):
        from flask import g

        g.lang = lang
        html = render_template("operator/_clock_status.html")
    section = re.search(r"<section([^>]*)>", html).group(1)
    return dict(re.findall(r'(data-clock-[a-z-]+)="([^"]*)"', section)), html


def test_dashboard_widget_shows_server_age_and_offset_in_ms(app, db, responders, use_servers, frozen_now):
    attributes, html = _widget(app)
    assert "data-clock-never-checked" in html and "data-clock-server" not in attributes
    server = responders(offset=0.0123)
    use_servers(server)
    checked_at = _check(app, db).chosen.checked_at
    frozen_now(checked_at + timedelta(minutes=3))
    attributes, html = _widget(app)
    assert attributes["data-clock-server"] == server.spec and attributes["data-clock-age-minutes"] == "3"
    assert re.search(rf"{re.escape(server.spec)}[^<]*\b3\b|\b3\b[^<]*{re.escape(server.spec)}", html)
    # German decimal comma; the measured offset is 12.3 ms give or take the loopback's jitter under load
    shown = re.search(r"data-clock-offset>\+(\d+),(\d) ms<", html)
    assert shown, html
    assert abs(float(f"{shown.group(1)}.{shown.group(2)}") - 12.3) < 2.0
    assert abs(float(attributes["data-clock-offset-ms"]) - 12.3) < 2.0
    assert attributes["data-clock-stale"] == "no" and "data-clock-warning" not in html


def test_dashboard_widget_warns_about_a_large_offset(app, db, responders, use_servers):
    use_servers(responders(offset=-1.5))
    _check(app, db)
    attributes, html = _widget(app)
    assert 'data-clock-warning="offset"' in html
    # German number format; the measured offset is −1.5 s within a few ms on a busy machine.
    assert re.search(r"−?-?1\.(49\d|50\d),\d ms", html), html


def test_dashboard_widget_warns_when_unchecked_for_over_an_hour(app, db, responders, use_servers, frozen_now):
    server = responders(offset=0.001)
    use_servers(server)
    checked_at = _check(app, db).chosen.checked_at
    server.leap = 3
    _check(app, db)
    frozen_now(checked_at + timedelta(minutes=30))
    attributes, html = _widget(app)
    assert attributes["data-clock-stale"] == "yes" and attributes["data-clock-failing-since"]
    assert "data-clock-failing" in html and "leap indicator 3" in html
    assert "data-clock-warning" not in html  # stale, but not yet for an hour
    frozen_now(checked_at + timedelta(minutes=75))
    attributes, html = _widget(app)
    assert 'data-clock-warning="unchecked"' in html and attributes["data-clock-age-minutes"] == "75"


# -- the periodic job --------------------------------------------------------------

def test_worker_start_checks_once_and_schedules_the_periodic_check(app, db, responders, use_servers):
    from rq import SimpleWorker

    from reflexion.jobs import clock_jobs, periodic
    from reflexion.jobs.queue import DEFAULT, get_queue, use_job_app
    from reflexion.jobs.scheduling import cancel

    server = responders(offset=30)
    use_servers(server)
    app.config["CLOCK_CHECK_MINUTES"] = 15
    use_job_app(app)
    redis = app.extensions["reflexion_redis"]
    queue = get_queue(DEFAULT)
    registry = queue.scheduled_job_registry

    def pending_run():
        job_id = redis.get(periodic._key(clock_jobs.CLOCK_CHECK)).decode()
        assert job_id in registry.get_job_ids()
        return job_id, (registry.get_scheduled_time(job_id) - clock.system_utc()).total_seconds()

    clock_jobs.start(app)
    assert server.requests == 1 and _system_gap() == pytest.approx(30, abs=GAP_TOLERANCE)
    first, due_in = pending_run()
    assert due_in == pytest.approx(15 * 60, abs=5)  # RQ counts in system time, not checked time

    # Make a run due now and let a real worker (with scheduler) run it: it checks again and
    # schedules its successor.
    cancel(first)
    periodic.schedule_next(clock_jobs.CLOCK_CHECK, clock_jobs.clock_check_job, -1)
    server.offset = 31
    SimpleWorker([queue], connection=redis).work(burst=True, with_scheduler=True, logging_level="WARNING")
    assert server.requests == 2
    clock.forget_cached_offset()
    assert _system_gap() == pytest.approx(31, abs=GAP_TOLERANCE)
    successor, due_in = pending_run()
    assert successor != first and due_in == pytest.approx(15 * 60, abs=5)
    assert registry.get_job_ids() == [successor]
    db.session.expire_all()
    assert [r.ok for r in db.session.scalars(select(ClockCheck))] == [True, True]


def test_worker_start_survives_unreachable_servers(app, db, responders, use_servers):
    from reflexion.jobs import clock_jobs

    app.config.update(NTP_SERVERS=[_closed_port()], NTP_TIMEOUT_SECONDS=0.5)
    clock_jobs.start(app)  # no exception
    info = summary()
    assert info["failing_since"] and "no answer" in info["last_error"]
