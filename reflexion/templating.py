"""Helpers for templates."""
from flask import request, url_for


def switch_language_url(target: str) -> str:
    """Return the URL of the current page in ``target`` language (never an outside URL)."""
    endpoint = request.endpoint
    if endpoint and request.url_rule is not None and "lang" in request.url_rule.arguments:
        args = dict(request.view_args or {})
        args["lang"] = target
        return url_for(endpoint, **args)
    return url_for("pages.home", lang=target)
