"""Security headers on every response, and the kinds of request body we accept.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline
script, no ``style=""`` attribute, no eval (htmx runs with ``allowEval: false``).
"""
from flask import abort, request

from reflexion.payments.stripe_checkout import enabled as online_payment_enabled


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
#: Endpoints that take another body: Stripe's webhook posts signed JSON (reflexion/payments/stripe_views.py).
OTHER_BODIES = frozenset({"stripe.webhook"})
#: Where "Pay online" sends the client (the booking page's form is answered with a redirect there).
CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def register_security_headers(app):
    @app.before_request
    def only_form_bodies():
        """Every write here is an HTML form: refuse other bodies (JSON, XML, …) with 415."""
        if (request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype not in FORM_TYPES
                and request.endpoint not in OTHER_BODIES):
            abort(415)

    security_headers = list(SECURITY_HEADERS)
    if online_payment_enabled(app.config):
        # Browsers apply form-action to a form's redirect too: the "Pay online" form ends on Stripe.
        security_headers = [(name, value.replace("form-action 'self'", f"form-action 'self' {CHECKOUT_ORIGIN}"))
                            for name, value in security_headers]
    if app.config["SESSION_COOKIE_SECURE"]:
        security_headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def headers(response):
        # No view sets these, so add them in one go (this runs on every request, the polled panel too).
        response.headers.extend(security_headers)
        return response
