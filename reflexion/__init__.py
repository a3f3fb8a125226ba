"""Reflexion: booking and session system for paid video conversations."""
import logging
import os
from pathlib import Path

from flask import Flask, abort, g, redirect, url_for
from jinja2 import FileSystemBytecodeCache
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from reflexion import config as config_module
from reflexion import db as unit_of_work
from reflexion.cookie_sessions import VerifiedCookieSessions
from reflexion.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
from reflexion.files import private_folder, touch_private
from reflexion.i18n import LANGUAGES, best_language, install_template_gettext, select_locale, select_timezone
from reflexion.redis_conn import redis_timeouts
from reflexion.settings import setting
from reflexion.templating import register_lifecycle_filters, switch_language_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests)."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(config_module.load_settings(config))

    private_folder(app.config["INSTANCE_DIR"])
    app.instance_path = app.config["INSTANCE_DIR"]
    # Compiled templates kept on disk (keyed by each template's source): a new worker process (gunicorn
    # restarts them every max_requests) renders its first pages without compiling them again.
    app.jinja_options = {**app.jinja_options, "bytecode_cache": FileSystemBytecodeCache(
        str(private_folder(app.config["TEMPLATE_CACHE_DIR"])))}
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = _default_redis_url(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 15})
        _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"], touch_private)
    _configure_logging(app)
    _trust_proxies(app)

    db.init_app(app)
    unit_of_work.init_app(app)  # each request commits or rolls back once (reflexion/db.py)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)
    htmx.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_storage(app))

    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_timeouts(app.config))
    limiter.init_app(app)
    # Limits are declared only on the routes that need them, and each decorated route checks
    # its own. With no default or application-wide limits, the limiter's app-wide hook has
    # nothing to decide, yet costs about 0.25 ms per request (the polled panel among them).
    # Flask-Limiter 4 has no public switch for it (3.x's ``auto_check=False`` is gone, and
    # ``default_limits_exempt_when`` still runs the hook); the decorated routes call the same
    # check themselves, so only the hook is taken out (the rate-limit tests prove they still hold).
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # absent when rate limiting is switched off
        hooks.remove(limiter._check_request_limit)
    login_manager.init_app(app)
    app.session_interface = VerifiedCookieSessions()

    # inside: this package is every module's parent; a top-level import would load the app for any import
    from reflexion import models  # noqa: F401  (register the whole schema)
    from reflexion.availability.slot_cache import watch_writes
    from reflexion.db_events import register_db_events
    from reflexion.errors import register_error_handlers
    from reflexion.security import register_security_headers
    from reflexion.cli import register_cli

    register_db_events(app)
    watch_writes()
    _register_language_routing(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_cli(app)
    _connect_effects()
    _teach_settings()
    return app


def _private_sqlite_file(uri, touch_private):
    """Create the SQLite file 0600 before SQLite does (with the umask's 0644); its journal
    and WAL files take the database file's permissions."""

    database = make_url(uri).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if path.parent.is_dir():
            touch_private(path)


def _trust_proxies(app):
    """Behind ``PROXY_HOPS`` reverse proxies, take the client address and scheme from
    ``X-Forwarded-For``/``-Proto`` exactly that many hops deep (what a client sends itself is
    further left and ignored), so rate limits count per real client, not per proxy."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _teach_settings():
    """Rules the settings store takes from the domains: the call platforms' handle formats."""
    from reflexion import platforms  # inside: as in _connect_effects
    from reflexion.settings import registry  # inside: as in _connect_effects

    registry.replace_rules("PLATFORMS", validate=platforms.settings_rule)


def _connect_effects():
    """The job and mail layers subscribe to the domain's signals (see reflexion.signals)."""
    # inside: this package is every module's parent; a top-level import would load the app for any import
    from reflexion.jobs import timers
    from reflexion.mail import notify
    from reflexion.notices import push
    from reflexion.payments import stripe_refunds
    from reflexion.receipts import documents as receipts

    timers.connect_signals()
    notify.connect_signals()
    push.connect_signals()
    receipts.connect_signals()  # the receipt is issued in the transaction that confirms the payment
    stripe_refunds.connect_signals()  # refunds of online payments go back through Stripe's API


def _default_redis_url(app) -> str:
    """Without REDIS_URL, use the private Redis that ``make run`` starts in the instance folder."""
    return f"unix://{Path(app.config['INSTANCE_DIR']) / 'redis' / 'redis.sock'}"


def _limiter_storage(app) -> str:
    url = app.config["REDIS_URL"]
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def _configure_logging(app):
    if not app.debug and not app.testing:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # fpdf2's font subsetting (receipts) logs every glyph table at INFO: not ours to read
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    # the stripe library logs request and response bodies at DEBUG (payers' details): not in our logs
    logging.getLogger("stripe").setLevel(logging.WARNING)


def _register_language_routing(app):
    @app.url_value_preprocessor
    def pull_lang(endpoint, values):
        if values and "lang" in values:
            g.lang = values.pop("lang")
            if g.lang not in LANGUAGES:
                g.lang_invalid = g.lang
                g.lang = best_language()

    @app.url_defaults
    def add_lang(endpoint, values):
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = getattr(g, "lang", None) or select_locale()

    @app.before_request
    def reject_unknown_language():
        if getattr(g, "lang_invalid", None):

            abort(404)

    @app.route("/")
    def root():
        return redirect(url_for("pages.home", lang=best_language()), code=302)


def _register_blueprints(app):
    # inside: this package is every module's parent; a top-level import would load the app for any import
    from reflexion.booking.views import bp as booking_bp
    from reflexion.calendar.views import bp as calendar_bp
    from reflexion.health import bp as health_bp
    from reflexion.operator.views import bp as operator_bp
    from reflexion.pages.views import bp as pages_bp
    from reflexion.privacy.views import bp as privacy_bp
    from reflexion.payments.stripe_views import bp as stripe_bp
    from reflexion.receipts.views import bp as receipts_bp
    from reflexion.conversations.views import bp as sessions_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(stripe_bp)  # the webhook (404 while online payment is off)


def _register_template_helpers(app):
    # inside: this package is every module's parent; a top-level import would load the app for any import
    from reflexion.booking.payment_qr import payment_qr
    from reflexion.payments import stripe_checkout
    from reflexion.receipts.documents import credit_note_for, receipt_for
    from flask_babel import LazyString
    from reflexion import platforms
    from reflexion.availability.slots import format_slot_key
    from reflexion.booking.changes import can_move
    from reflexion.booking.states import CONFIRMED_STATES, Actor, State, can_transition
    from reflexion.clock.status import for_display as clock_status, format_ms
    from reflexion.i18n import (
        LANGUAGE_NAMES, fee_cents, format_day, format_duration_minutes, format_instant_html,
        format_money, format_number, format_terms_version,
    )

    register_lifecycle_filters(app)  # state_label, note_label, … (reflexion/templating.py)
    app.jinja_env.filters["instant"] = format_instant_html
    app.jinja_env.filters["minutes"] = format_duration_minutes
    app.jinja_env.filters["terms_date"] = format_terms_version
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.globals["switch_language_url"] = switch_language_url
    app.jinja_env.globals["setting"] = setting  # the practice's settings (reflexion/settings)
    # Call platforms (reflexion/platforms): the ones offered now, and a booking's own
    app.jinja_env.globals["enabled_platforms"] = platforms.enabled_platforms
    app.jinja_env.globals["booked_call"] = platforms.booked_call
    app.jinja_env.globals["platform_name"] = platforms.display_name
    app.jinja_env.globals["handle_parts"] = platforms.handle_parts  # where a call handle may wrap
    app.jinja_env.globals["handle_part_max"] = platforms.LONGEST_UNBROKEN_PART
    app.jinja_env.globals["clock_status"] = clock_status  # footer note, dashboard widget
    app.jinja_env.globals["payment_qr"] = payment_qr  # the EPC QR code in the payment instructions
    # Online payment (reflexion/payments/stripe_checkout.py): the "Pay online" button and its state
    app.jinja_env.globals["can_pay_online"] = stripe_checkout.can_pay_online
    app.jinja_env.globals["online_payment_in_progress"] = stripe_checkout.payment_in_progress
    app.jinja_env.globals["online_methods_text"] = stripe_checkout.methods_text
    app.jinja_env.globals["online_processing_text"] = stripe_checkout.processing_text
    app.jinja_env.globals["receipt_for"] = receipt_for  # the booking page's receipt and credit note links
    app.jinja_env.globals["credit_note_for"] = credit_note_for
    app.jinja_env.filters["ms"] = format_ms
    # Templates ask the lifecycle instead of listing states: {% if can_transition(booking, "cancelled") %}
    app.jinja_env.globals["can_transition"] = lambda booking, to, actor=Actor.OPERATOR: can_transition(
        booking, to, actor)
    app.jinja_env.globals["can_move"] = can_move
    app.jinja_env.filters["slot_key"] = format_slot_key
    app.jinja_env.tests["confirmed"] = lambda booking: State(booking.state) in CONFIRMED_STATES

    @app.context_processor
    def practice():
        return {
            "lang": getattr(g, "lang", None) or select_locale(),
            "LANGUAGES": LANGUAGES,
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "brand": setting("BRAND"),
            # Pages without a booking name the platforms offered (as "A, B or C");
            # a booking's pages, e-mails and invites name its own (booked_call(booking)).
            "platform": LazyString(platforms.names_of_enabled),
            "contact_email": setting("CONTACT_EMAIL"),
            "contact_phone": setting("CONTACT_PHONE"),
            "fee": format_money(fee_cents(), setting("CURRENCY")),
            # The rule figures every page quotes, from the settings the system enforces
            # (a booking's own page quotes the length it was booked with).
            "session_minutes": format_number(setting("SESSION_MINUTES")),
            "no_answer_minutes": format_number(setting("NO_ANSWER_MINUTES")),
            "min_notice_hours": format_number(setting("MIN_NOTICE_HOURS")),
            "horizon_days": format_number(setting("HORIZON_DAYS")),
        }
