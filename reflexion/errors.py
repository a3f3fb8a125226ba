"""Error pages in the visitor's language; no 500 page leaks details."""
import logging

from flask import g, render_template, request
from flask import globals as flask_globals
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from reflexion.extensions import db
from reflexion.i18n import LANGUAGES, best_language

log = logging.getLogger(__name__)


def _ensure_language():
    if getattr(g, "lang", None) not in LANGUAGES:
        first = request.path.strip("/").split("/", 1)[0]
        g.lang = first if first in LANGUAGES else best_language()


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        _ensure_language()
        return render_template("errors/error.html", code=400, kind="csrf"), 400

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def redis_unavailable(error):
        """A page that cannot do without Redis says so at once (the client times out fast)."""
        log.warning("Redis unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
        db.session.rollback()
        _ensure_language()
        response = app.make_response((render_template("errors/error.html", code=503, kind=None), 503))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error):
        _ensure_language()
        if request.path.startswith("/static/") or request.path == "/healthz":
            return error
        if _request_ctx_url_adapter() is None:  # an untrusted Host header: nothing to build links with
            return error
        code = error.code or 500
        response = app.make_response((render_template("errors/error.html", code=code, kind=None), code))
        if code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        if code == 429:
            response.headers.update({k: v for k, v in error.get_headers() if k.lower() == "retry-after"})
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        _ensure_language()
        return render_template("errors/error.html", code=500, kind=None), 500


def _request_ctx_url_adapter():

    ctx = flask_globals.request_ctx._get_current_object() if flask_globals.request_ctx else None
    return getattr(ctx, "url_adapter", None)
