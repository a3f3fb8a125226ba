"""WSGI app for bench/panel_partial.py: the real app, with a bare Flask app mounted at ``/bare``.

The real app also gets two constant answers, to show what the app costs before the partial's own
work (reading the booking, the countdowns, the template):

* ``/bench/empty``: through all of the app's own request handling (session cookie, CSRF check,
  language routing, rate limiter, security headers, ...);
* ``/bench/operator-empty``: the same behind the operator login check the panel's blueprint runs
  (``guard_operator_request``: login, session protection, expiry, revocation).
"""
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from reflexion import create_app
from reflexion.operator.auth import guard_operator_request

bare = Flask("bare")


@bare.route("/")
def index():
    return "<p>ok</p>"


def operator_empty():
    return guard_operator_request() or "<p>ok</p>"


reflexion_app = create_app()
reflexion_app.add_url_rule("/bench/empty", "bench_empty", lambda: "<p>ok</p>")
reflexion_app.add_url_rule("/bench/operator-empty", "bench_operator_empty", operator_empty)
app = DispatcherMiddleware(reflexion_app, {"/bare": bare})
