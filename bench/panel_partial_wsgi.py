"""WSGI app for bench/panel_partial.py: the real app, with a bare Flask app mounted at ``/bare``.

The real app also gets ``/bench/empty`` (a constant answer through all of the app's own request
handling: session cookie, security headers, ...), to show what the app costs before any view.
"""
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from reflexion import create_app

bare = Flask("bare")


@bare.route("/")
def index():
    return "<p>ok</p>"


reflexion_app = create_app()
reflexion_app.add_url_rule("/bench/empty", "bench_empty", lambda: "<p>ok</p>")
app = DispatcherMiddleware(reflexion_app, {"/bare": bare})
