"""Settings from environment variables (and an optional ``.env``), with test overrides."""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

from reflexion.files import private_folder, write_private

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name, default):
    value = _env(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEFAULT_NTP_SERVERS = (
    "ptbtime1.ptb.de",
    "ptbtime2.ptb.de",
    "ptbtime3.ptb.de",
    "de.pool.ntp.org",
)


def load_settings(overrides=None):
    """Return the settings mapping for ``app.config``; ``overrides`` wins over the environment."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    instance = Path(_env("REFLEXION_INSTANCE", PROJECT_ROOT / "instance")).resolve()
    port = int(_env("PORT", "5000"))
    settings = {
        "SECRET_KEY": _env("SECRET_KEY"),
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL", f"sqlite:///{instance / 'reflexion.sqlite3'}"),
        "REDIS_URL": _env("REDIS_URL"),
        # Socket and connect timeout of the web side's Redis clients (app and rate limits)
        "REDIS_TIMEOUT_SECONDS": float(_env("REFLEXION_REDIS_TIMEOUT", "1.0")),
        "PORT": port,
        # The practice
        "BRAND": _env("REFLEXION_BRAND", "Internet Reflexion®"),
        "TIMEZONE": _env("REFLEXION_TIMEZONE", "Europe/Berlin"),
        "OPERATOR_NAME": _env("REFLEXION_OPERATOR_NAME", "Internet Reflexion"),
        "CONTACT_EMAIL": _env("REFLEXION_CONTACT_EMAIL", "kontakt@internet-reflexion.example"),
        "CONTACT_PHONE": _env("REFLEXION_CONTACT_PHONE", "+49 30 1234567"),
        "PUBLIC_URL": _env("REFLEXION_PUBLIC_URL", f"http://localhost:{port}"),
        # Host names requests may carry (Flask refuses others with 400); with a public URL set,
        # its host plus localhost and 127.0.0.1 (monitoring) unless listed here
        "TRUSTED_HOSTS": _list("REFLEXION_TRUSTED_HOSTS", ()) or None,
        # Sessions and booking rules
        "SESSION_MINUTES": float(_env("REFLEXION_SESSION_MINUTES", "45")),
        "NO_ANSWER_MINUTES": float(_env("REFLEXION_NO_ANSWER_MINUTES", "15")),
        "BUFFER_MINUTES": float(_env("REFLEXION_BUFFER_MINUTES", "15")),
        "MIN_NOTICE_HOURS": float(_env("REFLEXION_MIN_NOTICE_HOURS", "24")),
        "HORIZON_DAYS": int(_env("REFLEXION_HORIZON_DAYS", "56")),
        "PAYMENT_WINDOW_HOURS": float(_env("REFLEXION_PAYMENT_WINDOW_HOURS", "72")),
        "PAYMENT_CUTOFF_HOURS": float(_env("REFLEXION_PAYMENT_CUTOFF_HOURS", "2")),
        "REMINDER_HOURS": float(_env("REFLEXION_REMINDER_HOURS", "24")),
        "VERIFY_MAX_FAILURES": int(_env("REFLEXION_VERIFY_MAX_FAILURES", "5")),
        "TERMS_VERSION": _env("REFLEXION_TERMS_VERSION", "2026-12"),
        # Privacy: personal data of finished bookings and contact messages is anonymised after
        "RETENTION_DAYS": int(_env("REFLEXION_RETENTION_DAYS", "180")),
        "MESSAGE_RETENTION_DAYS": int(_env("REFLEXION_MESSAGE_RETENTION_DAYS", "90")),
        # Money
        "FEE_AMOUNT": _env("REFLEXION_FEE", "90.00"),
        "CURRENCY": _env("REFLEXION_CURRENCY", "EUR"),
        "BANK_ACCOUNT_HOLDER": _env("REFLEXION_BANK_HOLDER", "Internet Reflexion"),
        "BANK_IBAN": _env("REFLEXION_BANK_IBAN", "DE02 1203 0000 0000 2020 51"),
        "BANK_BIC": _env("REFLEXION_BANK_BIC", "BYLADEM1001"),
        # Online payment with Stripe Checkout (reflexion/payments/stripe_checkout.py): offered only
        # when both secrets are set; deployment secrets, never in the settings table or the logs
        "STRIPE_SECRET_KEY": _env("STRIPE_SECRET_KEY"),
        "STRIPE_WEBHOOK_SECRET": _env("STRIPE_WEBHOOK_SECRET"),
        # Another address for Stripe's API (stripe-mock, the tests' stand-in); unset: api.stripe.com
        "STRIPE_API_BASE": _env("STRIPE_API_BASE"),
        "STRIPE_TIMEOUT_SECONDS": float(_env("STRIPE_TIMEOUT_SECONDS", "20")),
        # Largest bank statement the panel accepts (MB); only that upload route allows more than
        # MAX_CONTENT_LENGTH
        "STATEMENT_MAX_MB": float(_env("REFLEXION_STATEMENT_MAX_MB", "10")),
        # The practice's legal identity (imprint, privacy notice, receipts)
        "POSTAL_ADDRESS": _env("REFLEXION_POSTAL_ADDRESS", "Musterstraße 1\n10115 Berlin\nDeutschland"),
        "VAT_MODE": _env("REFLEXION_VAT_MODE", "small_business"),  # or "standard"
        "VAT_RATE_PERCENT": _env("REFLEXION_VAT_RATE", "19"),
        "VAT_ID": _env("REFLEXION_VAT_ID", ""),
        "TAX_NUMBER": _env("REFLEXION_TAX_NUMBER", ""),
        # Changing bookings: client reschedules/cancels until this long before the start
        "CHANGE_CUTOFF_HOURS": float(_env("REFLEXION_CHANGE_CUTOFF_HOURS", "24")),
        "MAX_RESCHEDULES": int(_env("REFLEXION_MAX_RESCHEDULES", "2")),
        # Refund of a paid booking the client cancels before / after the cut-off (operator: always 100)
        "REFUND_PERCENT_BEFORE_CUTOFF": int(_env("REFLEXION_REFUND_BEFORE_CUTOFF", "100")),
        "REFUND_PERCENT_AFTER_CUTOFF": int(_env("REFLEXION_REFUND_AFTER_CUTOFF", "0")),
        # Call platforms the operator offers: "platform=handle,platform=handle" (reflexion/platforms)
        "PLATFORMS": _env("REFLEXION_PLATFORMS", "teams=kontakt@internet-reflexion.example"),
        # The legal pages' texts, replaced by the operator per language; empty: the built-in text
        # (plain text: paragraphs, line breaks, headings with #, lists with - ; never HTML)
        "IMPRINT_TEXT_DE": _env("REFLEXION_IMPRINT_TEXT_DE", ""),
        "IMPRINT_TEXT_SV": _env("REFLEXION_IMPRINT_TEXT_SV", ""),
        "PRIVACY_TEXT_DE": _env("REFLEXION_PRIVACY_TEXT_DE", ""),
        "PRIVACY_TEXT_SV": _env("REFLEXION_PRIVACY_TEXT_SV", ""),
        "TERMS_TEXT_DE": _env("REFLEXION_TERMS_TEXT_DE", ""),
        "TERMS_TEXT_SV": _env("REFLEXION_TERMS_TEXT_SV", ""),
        # Push notices to the operator (apprise URLs, comma-separated); e-mail notices go to
        # MAIL_OPERATOR_NOTICE (default: the contact e-mail)
        "NOTICE_URLS": _list("REFLEXION_NOTICE_URLS", ()),
        # Clock
        "NTP_SERVERS": _list("REFLEXION_NTP_SERVERS", DEFAULT_NTP_SERVERS),
        "NTP_TIMEOUT_SECONDS": float(_env("REFLEXION_NTP_TIMEOUT", "2")),
        "NTP_MAX_DELAY_SECONDS": float(_env("REFLEXION_NTP_MAX_DELAY", "1.0")),
        "CLOCK_CHECK_MINUTES": float(_env("REFLEXION_CLOCK_CHECK_MINUTES", "15")),
        "RECONCILE_SECONDS": float(_env("REFLEXION_RECONCILE_SECONDS", "30")),
        # The worker refreshes its heartbeat this often; /healthz fails after three missed beats
        "WORKER_HEARTBEAT_SECONDS": float(_env("REFLEXION_WORKER_HEARTBEAT", "2")),
        # Mail: without MAIL_SERVER, messages are written to instance/outbox/
        "MAIL_SERVER": _env("MAIL_SERVER"),
        "MAIL_PORT": int(_env("MAIL_PORT", "25")),
        "MAIL_USERNAME": _env("MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER", "Internet Reflexion <no-reply@internet-reflexion.example>"),
        # The operator's content-free notices (new booking, payment, client cancellation, new
        # message): to this address; unset: CONTACT_EMAIL; "off": none
        "MAIL_OPERATOR_NOTICE": _env("MAIL_OPERATOR_NOTICE"),
        "MAIL_TIMEOUT": float(_env("MAIL_TIMEOUT", "20")),
        "MAIL_CA_FILE": _env("MAIL_CA_FILE"),  # extra CA bundle for the SMTP server's certificate
        # Seconds between send attempts; one retry per entry (RQ Retry intervals)
        "MAIL_RETRY_INTERVALS": [int(s) for s in _list("MAIL_RETRY_INTERVALS", ("30", "120", "600", "1800", "7200"))],
        # Calendar: the operator's feed token until one is generated in the panel
        "CALENDAR_FEED_TOKEN": _env("REFLEXION_CALENDAR_FEED_TOKEN"),
        "CALENDAR_REFRESH_MINUTES": int(_env("REFLEXION_CALENDAR_REFRESH_MINUTES", "15")),
        "CALENDAR_ALARM_MINUTES": int(_env("REFLEXION_CALENDAR_ALARM_MINUTES", "30")),
        # Demo mode (make run's default): seed a demo operator on an empty database
        "DEMO_MODE": _bool("REFLEXION_DEMO"),
        # Web
        # Reverse proxies in front of the app that add X-Forwarded-For/-Proto (0: none, direct)
        "PROXY_HOPS": int(_env("REFLEXION_PROXY_HOPS", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies whenever the site is served over HTTPS (production behind a TLS proxy)
        "SESSION_COOKIE_SECURE": _bool("REFLEXION_SECURE_COOKIES",
                                       _env("REFLEXION_PUBLIC_URL", "").startswith("https://")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": int(_env("REFLEXION_OPERATOR_SESSION_SECONDS", str(8 * 3600))),
        # The lifetime counts from login (or the last change of the session), not from the last
        # request: the operator panel polls every second and must not re-sign the cookie each time.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # CSRF tokens live as long as a session may (not for ever)
        "WTF_CSRF_TIME_LIMIT": int(_env("REFLEXION_OPERATOR_SESSION_SECONDS", str(8 * 3600))),
        "RATELIMIT_ENABLED": _bool("REFLEXION_RATELIMIT", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    }
    if overrides:
        settings.update(overrides)
    settings.setdefault("TEMPLATE_CACHE_DIR", str(Path(settings["INSTANCE_DIR"]) / "compiled-templates"))
    public_url_given = _env("REFLEXION_PUBLIC_URL") is not None or "PUBLIC_URL" in (overrides or {})
    if settings["TRUSTED_HOSTS"] is None and public_url_given:
        settings["TRUSTED_HOSTS"] = trusted_hosts_for(settings["PUBLIC_URL"])
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _persistent_secret(Path(settings["INSTANCE_DIR"]))
    return settings


def trusted_hosts_for(public_url: str) -> list[str]:
    """The public URL's host, and the loopback names local monitoring uses."""

    host = urlsplit(public_url).hostname
    return [name for name in (host, "localhost", "127.0.0.1") if name]


def _persistent_secret(instance):
    """Keep a generated secret in the instance folder so sessions survive a restart."""

    private_folder(instance)
    path = instance / "secret_key"
    try:  # created 0600 (never readable by others, not even briefly); two starters: one wins
        write_private(path, secrets.token_urlsafe(48).encode(), exclusive=True)
    except FileExistsError:
        pass
    return path.read_text().strip()
