"""Security headers on every response, and the kinds of request body we accept.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline
script, no ``style=""`` attribute, no eval (htmx runs with ``allowEval: false``).
"""
from flask import abort, request


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
     "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"),
)
FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data"})


def register_security_headers(app):
    @app.before_request
    def only_form_bodies():
        """Every write here is an HTML form: refuse other bodies (JSON, XML, …) with 415."""
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype not in FORM_TYPES:
            abort(415)

    security_headers = list(SECURITY_HEADERS)
    if app.config["SESSION_COOKIE_SECURE"]:
        security_headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def headers(response):
        # No view sets these, so add them in one go (this runs on every request, the polled panel too).
        response.headers.extend(security_headers)
        return response
