"""The NTP check: ask the configured servers, keep a sane answer, remember it.

ntplib sends the query and computes offset and delay; it checks nothing else, so the
answer is judged here (RFC 5905 §8–9): kiss-of-death, unsynchronised servers, a reply that
does not answer our request, an implausible delay or a server far from its reference are
skipped. Of the good answers the one with the lowest round-trip delay wins. The result goes
to Redis (what every process reads) and to a ``ClockCheck`` row (history). The system
clock is never changed.
"""
import json
import logging
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import ntplib
from flask import current_app

from reflexion import clock
from reflexion.clock.models import ClockCheck
from reflexion.extensions import db
from reflexion.redis_conn import get_redis

log = logging.getLogger(__name__)

DEFAULT_PORT = 123
NTP_VERSION = 4
#: A round trip longer than this is no basis for setting a clock (and no sane network).
MAX_DELAY_SECONDS = 1.0
#: RFC 5905 MAXDIST: root delay / 2 + root dispersion above this means "too far from its reference".
MAX_ROOT_DISTANCE_SECONDS = 1.5
#: Float rounding of 64-bit NTP timestamps; far below any real network delay.
TIMESTAMP_TOLERANCE = 1e-3
#: Name lookups are not covered by the socket timeout; give them this much on top.
LOOKUP_GRACE_SECONDS = 1.0
ERROR_LENGTH = 500


class BadAnswer(Exception):
    """The server did not answer, or its answer must not set our clock."""


@dataclass(frozen=True)
class Answer:
    """A good answer of one server, with the moment it arrived."""

    server: str
    offset: float  # seconds: server time minus system time
    delay: float  # seconds, round trip
    stratum: int
    arrived_at: datetime  # system time when the answer arrived
    arrived_steady: float  # clock.steady() then

    @property
    def checked_at(self) -> datetime:
        """The checked instant at which the answer arrived."""
        return self.arrived_at + timedelta(seconds=self.offset)


@dataclass
class CheckResult:
    """What one check found: the chosen answer (if any), the others, and why servers failed."""

    chosen: Answer | None = None
    answers: list[Answer] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    status: dict | None = None
    configured: bool = True

    @property
    def ok(self) -> bool:
        return self.chosen is not None


def parse_server(spec: str) -> tuple[str, int]:
    """Split ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address; port 123 by default."""
    spec = spec.strip()
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif spec.count(":") == 1:
        host, port = spec.split(":")
    else:
        host, port = spec, ""
    if not host:
        raise BadAnswer("no host name")
    try:
        port_number = int(port) if port else DEFAULT_PORT
    except ValueError:
        raise BadAnswer(f"bad port {port!r}") from None
    if not 0 < port_number < 65536:
        raise BadAnswer(f"bad port {port_number}")
    return host, port_number


def _kiss_code(ref_id: int) -> str:
    raw = ref_id.to_bytes(4, "big").rstrip(b"\0")
    text = raw.decode("ascii", "replace")
    return text if text.isprintable() and text else raw.hex()


def judge(stats: ntplib.NTPStats, sent_ntp: float, max_delay: float = MAX_DELAY_SECONDS):
    """Raise :class:`BadAnswer` unless the reply may set our clock.

    ``sent_ntp`` is the system time (NTP scale) read just before the query was sent: the
    reply's originate timestamp must echo our transmit timestamp, so it lies between that
    and the arrival.
    """
    if stats.mode != 4:
        raise BadAnswer(f"not a server reply (mode {stats.mode})")
    if stats.stratum == 0:
        raise BadAnswer(f"kiss-of-death {_kiss_code(stats.ref_id)}")
    if stats.leap == 3:
        raise BadAnswer("server clock not synchronised (leap indicator 3)")
    if stats.stratum > 15:
        raise BadAnswer(f"server clock not synchronised (stratum {stats.stratum})")
    if not stats.tx_timestamp or not stats.recv_timestamp:
        raise BadAnswer("reply without timestamps")
    if not sent_ntp - TIMESTAMP_TOLERANCE <= stats.orig_timestamp <= stats.dest_timestamp + TIMESTAMP_TOLERANCE:
        raise BadAnswer("reply does not answer our request (originate timestamp)")
    if not -TIMESTAMP_TOLERANCE <= stats.delay <= max_delay:
        raise BadAnswer(f"implausible round-trip delay {stats.delay * 1000:.1f} ms")
    if stats.root_delay / 2 + stats.root_dispersion > MAX_ROOT_DISTANCE_SECONDS:
        raise BadAnswer("server too far from its reference clock (root distance)")


def query(spec: str, timeout: float, max_delay: float = MAX_DELAY_SECONDS) -> Answer:
    """Ask one server (``host[:port]``) for the time; raise :class:`BadAnswer` if unusable."""
    host, port = parse_server(spec)
    sent_ntp = ntplib.system_to_ntp_time(clock.system_utc().timestamp())
    try:
        stats = ntplib.NTPClient().request(host, version=NTP_VERSION, port=port, timeout=timeout)
    except ntplib.NTPException as exc:
        raise BadAnswer(_plain(exc, "no answer")) from None
    except socket.gaierror:
        raise BadAnswer("host name not found") from None
    except OSError as exc:
        raise BadAnswer(f"network error: {exc.strerror or type(exc).__name__}") from None
    arrived_steady, arrived_at = clock.steady(), clock.system_utc()
    judge(stats, sent_ntp, max_delay)
    return Answer(server=spec, offset=stats.offset, delay=max(stats.delay, 0.0), stratum=stats.stratum,
                  arrived_at=arrived_at, arrived_steady=arrived_steady)


def _plain(exc, default):
    text = str(exc)
    if text.startswith("No response received"):
        return "no answer (timeout)"
    return text or default


def ask_all(servers: list[str], timeout: float, max_delay: float = MAX_DELAY_SECONDS):
    """Ask every server at once; return ``(answers, failures)`` after at most the timeout."""
    servers = list(dict.fromkeys(s.strip() for s in servers if s and s.strip()))
    results: dict[str, object] = {}

    def ask(spec):
        try:
            results[spec] = query(spec, timeout, max_delay)
        except BadAnswer as exc:
            results[spec] = exc
        except Exception as exc:  # anything odd from a server is that server's failure
            results[spec] = BadAnswer(f"unexpected error: {type(exc).__name__}")

    # Daemon threads: a hanging name lookup must not hold up the check or the exit.
    threads = [threading.Thread(target=ask, args=(spec,), name=f"ntp-{spec}", daemon=True) for spec in servers]
    for thread in threads:
        thread.start()
    deadline = clock.steady() + timeout + LOOKUP_GRACE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - clock.steady()))
    answers, failures = [], {}
    for spec in servers:
        outcome = results.get(spec)
        if isinstance(outcome, Answer):
            answers.append(outcome)
        else:
            failures[spec] = str(outcome) if outcome is not None else "no answer (name lookup too slow)"
    return answers, failures


def choose(answers: list[Answer]) -> Answer | None:
    """The answer with the lowest round-trip delay (the least room for asymmetry)."""
    return min(answers, key=lambda a: a.delay, default=None)


def check(app=None) -> CheckResult:
    """Run one NTP check: ask, choose, store in Redis and as a ``ClockCheck`` row (flushed).

    On total failure the last good offset stays in use; the status gets ``failing_since``.
    The caller commits. Without configured servers nothing is asked or stored.
    """
    app = app or current_app._get_current_object()
    servers = app.config.get("NTP_SERVERS") or []
    if not servers:
        return CheckResult(configured=False)
    timeout = float(app.config.get("NTP_TIMEOUT_SECONDS", 2))
    max_delay = float(app.config.get("NTP_MAX_DELAY_SECONDS", MAX_DELAY_SECONDS))
    answers, failures = ask_all(servers, timeout, max_delay)
    for spec, reason in failures.items():
        log.info("clock: skipped time server %s: %s", spec, reason)
    chosen = choose(answers)
    previous = _previous_status(app)
    if chosen is not None:
        checked_at = chosen.checked_at
        status = {
            "offset": chosen.offset,
            "delay": chosen.delay,
            "stratum": chosen.stratum,
            "server": chosen.server,
            "checked_at": checked_at.isoformat(),
            "attempted_at": checked_at.isoformat(),
        }
        row = ClockCheck(checked_at=checked_at, ok=True, server=chosen.server, offset_seconds=chosen.offset,
                         delay_seconds=chosen.delay, stratum=chosen.stratum)
        anchor = (checked_at, chosen.arrived_steady)
        log.info("clock: %s offset %+.1f ms, delay %.1f ms, stratum %d", chosen.server, chosen.offset * 1000,
                 chosen.delay * 1000, chosen.stratum)
    else:
        attempted_at = clock.now()
        error = ("; ".join(f"{spec}: {reason}" for spec, reason in failures.items()))[:ERROR_LENGTH]
        status = dict(previous) if previous else {
            "offset": 0.0, "delay": None, "stratum": None, "server": None, "checked_at": None}
        status["failing_since"] = status.get("failing_since") or attempted_at.isoformat()
        status["last_error"] = error
        status["attempted_at"] = attempted_at.isoformat()
        row = ClockCheck(checked_at=attempted_at, ok=False, error=error)
        anchor = None
        log.warning("clock: no time server gave a usable answer; keeping offset %+.1f ms (%s)",
                    status["offset"] * 1000, error)
    db.session.add(row)
    db.session.flush()
    _store(app, status)
    clock.adopt_check(app, status, anchor)
    return CheckResult(chosen=chosen, answers=answers, failures=failures, status=status)


def _previous_status(app) -> dict | None:
    try:
        return clock.read_stored_status(app)
    except Exception as exc:
        log.warning("clock: could not read the previous status (%s)", type(exc).__name__)
        return clock.last_check()


def _store(app, status: dict):
    try:
        get_redis(app).set(clock.REDIS_KEY, json.dumps(status))
    except Exception as exc:  # the database row still records the check
        log.warning("clock: could not store the check in Redis (%s)", type(exc).__name__)
