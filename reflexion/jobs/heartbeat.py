"""The worker's heartbeat: proof for /healthz that a worker loop is running right now.

RQ's own registration says only that a worker started and has not yet expired (minutes).
Each worker writes ``{at, pid, host}`` under its name in one Redis hash every
``WORKER_HEARTBEAT_SECONDS``; /healthz trusts a worker whose beat is fresh and, when it runs
on this host, whose process still exists (so a ``kill -9`` shows at once, a SIGSTOP after a
few seconds).
"""
import json
import os
import socket

from reflexion.processes import process_exists

KEY = "reflexion:worker-heartbeats"
#: Entries older than this are dropped by the next reader (a worker that died long ago).
FORGET_AFTER_SECONDS = 24 * 3600


def stale_after(config) -> float:
    """Seconds after which a heartbeat no longer counts (three missed beats).

    The worker loop wakes at most once a second, so beats come at least a second apart.
    """
    return 3 * max(1.0, float(config.get("WORKER_HEARTBEAT_SECONDS", 2)))


def beat(connection, worker_name: str, now) -> None:
    """Record that ``worker_name`` (this process) is alive at ``now`` (aware datetime)."""
    connection.hset(KEY, worker_name, json.dumps(
        {"at": now.timestamp(), "pid": os.getpid(), "host": socket.gethostname()}))


def forget(connection, worker_name: str) -> None:
    """A worker that stops cleanly removes its entry."""
    connection.hdel(KEY, worker_name)



def status(connection, now, config) -> dict:
    """Return ``{ok, count, age_seconds, stale_after_seconds}`` for /healthz.

    ``count``: workers with a fresh beat whose process exists; ``age_seconds``: the age of the
    youngest beat (``None`` without any).
    """
    limit = stale_after(config)
    here = socket.gethostname()
    alive, youngest, dead = 0, None, []
    for name, raw in connection.hgetall(KEY).items():
        try:
            entry = json.loads(raw)
            age = now.timestamp() - float(entry["at"])
        except (ValueError, KeyError, TypeError):
            dead.append(name)
            continue
        if age > FORGET_AFTER_SECONDS:
            dead.append(name)
            continue
        gone = entry.get("host") == here and not process_exists(int(entry.get("pid") or 0))
        if gone:
            dead.append(name)
            continue
        youngest = age if youngest is None else min(youngest, age)
        if age <= limit:
            alive += 1
    if dead:
        connection.hdel(KEY, *dead)
    return {
        "ok": alive > 0,
        "count": alive,
        "age_seconds": None if youngest is None else round(max(0.0, youngest), 1),
        "stale_after_seconds": limit,
    }
