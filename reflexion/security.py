"""Security headers on every response, and the kinds of request body we accept.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline
script, no ``style=""`` attribute, no eval (htmx runs with ``allowEval: false``).
"""
from flask import abort, request


FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data"})


def register_security_headers(app):
    @app.before_request
    def only_form_bodies():
        """Every write here is an HTML form: refuse other bodies (JSON, XML, …) with 415."""
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype not in FORM_TYPES:
            abort(415)

    @app.after_request
    def headers(response):
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
            "object-src 'none'",
        )
        return response
