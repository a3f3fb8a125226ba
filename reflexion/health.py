"""/healthz: database, Redis, worker and clock status as JSON."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from reflexion import clock
from reflexion.clock import status as clock_status
from reflexion.extensions import db, limiter
from reflexion.jobs import heartbeat
from reflexion.redis_conn import get_redis

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    status = {"db": _db_status(), "redis": _redis_status(), "worker": _worker_status(), "clock": _clock_status()}
    status["ok"] = status["db"]["ok"] and status["redis"]["ok"] and status["worker"]["ok"]
    # Monitoring reads the status code: anything not ok is a 503.
    return jsonify(status), 200 if status["ok"] else 503


def _db_status():
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # report, never raise
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _redis_status():
    try:
        get_redis().ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _worker_status():
    """Judge the workers by their heartbeats (see reflexion.jobs.heartbeat)."""

    try:
        return heartbeat.status(get_redis(), clock.now(), current_app.config)
    except Exception as exc:
        return {"ok": False, "count": 0, "age_seconds": None, "error": type(exc).__name__}


def _clock_status():
    try:
        return clock_status.summary()
    except Exception as exc:
        current_app.logger.warning("clock status unavailable: %s", type(exc).__name__)
        return {"checked": False, "stale": True}
