"""reflexion.cookie_sessions: a session cookie's signature is checked once per process, yet a
forged, re-keyed or expired cookie is refused exactly as Flask refuses it."""
import time

import pytest
from flask import request

from reflexion.cookie_sessions import VerifiedCookieSessions
from reflexion.operator.auth import create_operator


@pytest.fixture
def logged_in(app, client, db, frozen_now):
    frozen_now()
    app.config["OPERATOR_SESSION_MAX_HOURS"] = 24 * 365  # only the cookie's own lifetime is tested here
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    response = client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    assert _in(client)  # the first page after login changes the session once (a new cookie)
    cookie = _cookie(client, app)
    assert _in(client) and _cookie(client, app) == cookie  # from here on the cookie stays, and is remembered
    assert any(key[-1] == cookie for key in app.session_interface._verified)
    return client


def _cookie(client, app):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _in(client) -> bool:
    response = client.get("/operator/")
    assert response.status_code in (200, 302, 303), response.status_code
    return response.status_code == 200


def test_the_app_uses_it(app):
    assert isinstance(app.session_interface, VerifiedCookieSessions)


def test_a_remembered_cookie_still_opens_the_session(app, logged_in, monkeypatch):
    monkeypatch.setattr(app.session_interface, "get_signing_serializer", lambda app: pytest.fail("checked again"))
    for _ in range(3):
        assert _in(logged_in)


def test_a_changed_cookie_is_refused_after_the_real_one_was_remembered(app, logged_in):
    cookie = _cookie(logged_in, app)
    payload, timestamp, signature = cookie.rsplit(".", 2)
    forged = f"{payload}.{timestamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    logged_in.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    assert not _in(logged_in)
    assert all(key[-1] != forged for key in app.session_interface._verified)


def test_a_new_secret_key_refuses_the_remembered_cookie(app, logged_in):
    app.secret_key = "another key"
    assert not _in(logged_in)


def test_a_remembered_cookie_expires_with_the_session_lifetime(app, logged_in, monkeypatch):
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert not _in(logged_in)


def test_a_request_that_changes_its_session_leaves_the_remembered_data_alone(app, logged_in):
    """Each request gets its own copy, nested values too (the operator's new-booking notice)."""
    interface, cookie = app.session_interface, _cookie(logged_in, app)
    (key,) = [key for key in interface._verified if key[-1] == cookie]
    remembered = interface._verified[key][0]
    remembered["notice"] = {"id": 1}  # as if the cookie had carried a nested value
    headers = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}
    with app.test_request_context(headers=headers):
        first = interface.open_session(app, request)
        first["notice"]["id"] = 2
        first["added"] = True
    with app.test_request_context(headers=headers):
        second = interface.open_session(app, request)
    assert second["notice"] == {"id": 1} and "added" not in second
