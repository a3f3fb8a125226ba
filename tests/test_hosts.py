"""The Host header is never reflected: absolute URLs come from PUBLIC_URL, unknown hosts get a 400."""
from datetime import datetime, timezone

import pytest

from reflexion.booking.payments import confirm_payment
from frozen import NOW


PUBLIC = "https://reflexion.example"


@pytest.fixture
def app_config(app_config):
    app_config["PUBLIC_URL"] = PUBLIC
    return app_config


def test_unknown_hosts_are_refused_and_known_ones_redirect_to_themselves(client):
    refused = client.get("/de", headers={"Host": "evil.com"})
    assert refused.status_code == 400 and "evil.com" not in refused.headers.get("Location", "")
    assert client.get("/de/", headers={"Host": "evil.com:443"}).status_code == 400
    redirected = client.get("/de", headers={"Host": "reflexion.example"})
    assert redirected.status_code == 308 and redirected.headers["Location"].endswith("//reflexion.example/de/")
    assert client.get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code in (200, 503)  # monitoring


def test_no_trusted_host_list_without_a_configured_public_url(make_app, monkeypatch):
    monkeypatch.delenv("REFLEXION_PUBLIC_URL", raising=False)
    from reflexion.config import load_settings

    assert load_settings({"SECRET_KEY": "x", "INSTANCE_DIR": "/tmp/unused-instance"})["TRUSTED_HOSTS"] is None
    assert load_settings({"SECRET_KEY": "x", "INSTANCE_DIR": "/tmp/unused-instance", "PUBLIC_URL": PUBLIC}
                         )["TRUSTED_HOSTS"] == ["reflexion.example", "localhost", "127.0.0.1"]


def test_invite_and_feed_urls_come_from_the_public_url_not_the_request(app, client, db, make_booking, frozen_now):
    from reflexion.operator.auth import create_operator

    frozen_now(NOW)
    booking = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc))
    confirm_payment(booking)
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    local = {"Host": "localhost:5000"}  # trusted, yet not the public address
    assert client.post(f"/de/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"},
                       headers=local).status_code == 303
    invite = client.get(f"/de/booking/{booking.ref}/invite.ics", headers=local).get_data(as_text=True)
    assert f"URL:{PUBLIC}/de/booking/{booking.ref}" in invite.replace("\r\n ", "")
    assert "localhost" not in invite

    operator = app.test_client()
    assert operator.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"},
                         headers=local).status_code == 303
    assert operator.post("/operator/calendar-feed", headers=local).status_code == 303
    dashboard = operator.get("/operator/", headers=local).get_data(as_text=True)
    assert 'href="webcal://reflexion.example/calendar/' in dashboard
    assert "localhost:5000/calendar" not in dashboard
