"""Security headers, cookies and redirects."""
import re

import pytest


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/de/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html and "hx-on" not in html


def test_no_hsts_on_plain_http_but_secure_cookies_and_hsts_behind_https(make_app):
    secure = make_app(SESSION_COOKIE_SECURE=True, WTF_CSRF_ENABLED=True)
    client = secure.test_client()
    response = client.get("/de/contact", base_url="https://reflexion.example")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("path", ["/de/contact", "/sv/book", "/de/terms"])
def test_language_switch_links_stay_on_this_site(client, path):
    html = client.get(path).get_data(as_text=True)
    links = re.findall(r'hreflang="\w\w"|href="([^"]+)" lang="\w\w"', html)
    for link in filter(None, links):
        assert link.startswith("/") and not link.startswith("//")


def test_no_open_redirect_through_odd_paths(client):
    for path in ["//evil.example/", "/\\evil.example", "/de//evil.example"]:
        response = client.get(path)
        location = response.headers.get("Location", "")
        assert not location.startswith("//") and "evil.example" not in location.split("/")[2:3]


def test_rate_limits_answer_429_in_the_visitors_language(make_app, db):
    """Access-key guessing is limited (10 per minute, counted in Redis) and refused with a localized 429."""
    limited = make_app(RATELIMIT_ENABLED=True)
    client = limited.test_client()
    with limited.app_context():
        from reflexion.redis_conn import get_redis

        get_redis(limited).flushdb()
    statuses = [client.post("/sv/booking/R-AAAAAA", data={"access_key": "aaaa-bbbb-cccc"}).status_code
                for _ in range(11)]
    assert statuses[:10] == [403] * 10
    assert statuses[10] == 429
    body = client.post("/sv/booking/R-AAAAAA", data={"access_key": "aaaa-bbbb-cccc"}).get_data(as_text=True)
    assert "För många försök" in body
