"""Helpers for templates, and the app-wide filters and tests of the booking lifecycle."""
from flask import request, url_for

from reflexion.conversations.panel import (
    actor_label,
    format_instant_seconds,
    is_paid,
    note_label,
    state_kind,
    state_label,
)


def switch_language_url(target: str) -> str:
    """Return the URL of the current page in ``target`` language (never an outside URL)."""
    endpoint = request.endpoint
    if endpoint and request.url_rule is not None and "lang" in request.url_rule.arguments:
        args = dict(request.view_args or {})
        args["lang"] = target
        return url_for(endpoint, **args)
    return url_for("pages.home", lang=target)


def register_lifecycle_filters(app):
    """Filters every area uses (dashboard, panel, e-mails): state names and badges, actors,
    audit notes in the reader's language, instants with seconds; the ``paid`` test."""
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(state_kind, "state_kind")
    app.add_template_filter(actor_label, "actor_label")
    app.add_template_filter(note_label, "note_label")
    app.add_template_filter(format_instant_seconds, "instant_s")
    app.add_template_test(is_paid, "paid")
