"""WSGI app for bench/panel_partial.py: the real app, with a bare Flask app mounted at ``/bare``.

The real app also gets two constant answers, to show what the app costs before the partial's own
work (reading the booking, the countdowns, the template):

* ``/bench/empty``: through all of the app's own request handling (session cookie, CSRF check,
  language routing, rate limiter, security headers, ...);
* ``/bench/operator-empty``: the same behind the operator login check the panel's blueprint runs
  (``guard_operator_request``: login, session protection, expiry, revocation).

And two references outside our app, each answering the same constant:

* ``/bare-login/``: a Flask app with nothing but Flask-Login (Flask's signed-cookie session, basic
  session protection as ours, a user from memory): what a Flask endpoint behind a login costs
  before doing anything;
* ``/bare-session/``: a Flask app that only reads its signed session cookie and checks one key
  in it: the least any login kept in Flask's cookie session can cost.
"""
from flask import Flask, abort, session
from flask_login import LoginManager, UserMixin, login_required, login_user
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from reflexion import create_app
from reflexion.operator.auth import guard_operator_request

bare = Flask("bare")


@bare.route("/")
def index():
    return "<p>ok</p>"


bare_login = Flask("bare_login")
bare_login.config.update(SESSION_COOKIE_NAME="bare_session")
bare_login_manager = LoginManager(bare_login)
bare_login_manager.session_protection = "basic"


class BareUser(UserMixin):
    id = "1"


@bare_login_manager.user_loader
def bare_user(user_id):
    return BareUser() if user_id == BareUser.id else None


@bare_login.route("/login")
def bare_log_in():
    login_user(BareUser())
    return "<p>ok</p>"


@bare_login.route("/")
@login_required
def bare_login_index():
    return "<p>ok</p>"


bare_session = Flask("bare_session")
bare_session.config.update(SESSION_COOKIE_NAME="bare_cookie_session")


@bare_session.route("/login")
def bare_session_log_in():
    session["user"] = BareUser.id
    return "<p>ok</p>"


@bare_session.route("/")
def bare_session_index():
    if session.get("user") != BareUser.id:
        abort(401)
    return "<p>ok</p>"


def operator_empty():
    return guard_operator_request() or "<p>ok</p>"


reflexion_app = create_app()
reflexion_app.add_url_rule("/bench/empty", "bench_empty", lambda: "<p>ok</p>")
reflexion_app.add_url_rule("/bench/operator-empty", "bench_operator_empty", operator_empty)
# Their own keys, the same in every worker (a cookie one worker signed opens in the other).
bare_login.secret_key = f"{reflexion_app.secret_key}/bare-login"
bare_session.secret_key = f"{reflexion_app.secret_key}/bare-session"
app = DispatcherMiddleware(reflexion_app, {"/bare": bare, "/bare-login": bare_login, "/bare-session": bare_session})
