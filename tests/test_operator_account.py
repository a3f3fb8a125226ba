"""The operator's account: second factor (TOTP + recovery codes), password change, log out everywhere."""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from reflexion import clock
from reflexion.operator.models import Operator

PASSWORD = "correct horse battery"


@pytest.fixture
def operator(db):
    from reflexion.operator.auth import create_operator

    op = create_operator("op@example.com", PASSWORD)
    db.session.commit()
    return op


def login(client, password=PASSWORD, **kwargs):
    return client.post("/operator/login", data={"email": "op@example.com", "password": password}, **kwargs)


def _copy_cookies(source, target):
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _account(db) -> Operator:
    db.session.expire_all()
    return db.session.scalar(select(Operator))


def _enroll(client, frozen_now):
    """Set up the second factor through the panel; return (secret, recovery codes)."""
    frozen_now()
    assert client.post("/operator/account/two-factor/setup").status_code == 303
    page = client.get("/operator/account").get_data(as_text=True)
    assert "data-totp-qr" in page and "<svg" in page
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    done = client.post("/operator/account/two-factor/confirm",
                       data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(as_text=True))
    return secret, codes


def test_setting_up_the_second_factor_shows_a_scannable_secret_and_ten_recovery_codes_once(
        client, operator, db, frozen_now):
    assert login(client).status_code == 303
    off = client.get("/operator/account").get_data(as_text=True)
    assert 'data-two-factor="off"' in off
    secret, codes = _enroll(client, frozen_now)
    assert len(codes) == 10 and len(set(codes)) == 10
    account = _account(db)
    assert account.has_two_factor and account.totp_pending_secret is None
    assert secret not in (account.totp_secret or "")  # stored encrypted
    assert all(code not in account.recovery_code_hashes for code in codes)  # stored hashed
    again = client.get("/operator/account").get_data(as_text=True)
    assert 'data-two-factor="on"' in again and "10 Wiederherstellungscodes" in again
    assert not any(code in again for code in codes)  # shown only once


def test_a_wrong_setup_code_keeps_the_factor_off(client, operator, db, frozen_now):
    frozen_now()
    assert login(client).status_code == 303
    client.post("/operator/account/two-factor/setup")
    response = client.post("/operator/account/two-factor/confirm", data={"code": "000000"})
    assert response.status_code == 400
    assert "Dieser Code passt nicht" in response.get_data(as_text=True)
    assert not _account(db).has_two_factor


def test_login_then_asks_for_a_code_which_works_once(app, client, operator, db, frozen_now):
    assert login(client).status_code == 303
    secret, _codes = _enroll(client, frozen_now)
    client.post("/operator/logout")

    step = login(client)
    assert step.status_code == 303 and step.headers["Location"] == "/operator/login/code"
    assert client.get("/operator/").status_code == 302  # the password alone opens nothing
    code = pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30))
    assert client.post("/operator/login/code", data={"code": code}).status_code == 303
    assert client.get("/operator/").status_code == 200

    # The same code again, from another browser after its own password step: refused (replay).
    other = app.test_client()
    assert login(other).status_code == 303
    replay = other.post("/operator/login/code", data={"code": code})
    assert replay.status_code == 401
    assert "falsch oder wurde schon verwendet" in replay.get_data(as_text=True)
    assert other.get("/operator/").status_code == 302


def test_the_code_step_expires_and_locks_after_five_wrong_codes(app, client, operator, db, frozen_now):
    assert login(client).status_code == 303
    secret, _codes = _enroll(client, frozen_now)
    client.post("/operator/logout")

    login(client)
    clock.freeze(clock.now() + timedelta(minutes=6))
    late = client.post("/operator/login/code", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert late.status_code == 303 and late.headers["Location"] == "/operator/login"

    login(client)
    statuses = [client.post("/operator/login/code", data={"code": "123456" if i % 2 else "654321"}).status_code
                for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    # Locked for the account, from any browser, even with the right code ...
    other = app.test_client()
    login(other)
    locked = other.post("/operator/login/code", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert locked.status_code == 429 and "gesperrt" in locked.get_data(as_text=True)
    # ... until the lock is over.
    clock.freeze(clock.now() + timedelta(minutes=16))
    login(other)
    assert other.post("/operator/login/code", data={"code": pyotp.TOTP(secret).at(clock.now())}).status_code == 303


def test_a_recovery_code_replaces_the_app_once(app, client, operator, db, frozen_now):
    assert login(client).status_code == 303
    _secret, codes = _enroll(client, frozen_now)
    client.post("/operator/logout")

    login(client)
    used = client.post("/operator/login/code", data={"code": codes[3].upper().replace("-", " ")},
                       follow_redirects=True)
    assert used.status_code == 200 and "9 sind übrig" in used.get_data(as_text=True)
    client.post("/operator/logout")
    login(client)
    assert client.post("/operator/login/code", data={"code": codes[3]}).status_code == 401
    assert _account(db).totp_failures == 1


def test_enrolling_ends_sessions_opened_with_the_password_alone(app, client, operator, db, frozen_now):
    assert login(client).status_code == 303
    thief = app.test_client()
    _copy_cookies(client, thief)
    assert thief.get("/operator/").status_code == 200
    _enroll(client, frozen_now)
    # (this order: the test app context's ``g`` is shared between test clients' requests)
    assert client.get("/operator/").status_code == 200
    assert thief.get("/operator/").status_code == 302


def test_recovery_codes_renewed_and_the_factor_switched_off_only_with_the_password(
        client, operator, db, frozen_now):
    assert login(client).status_code == 303
    _secret, codes = _enroll(client, frozen_now)
    wrong = client.post("/operator/account/two-factor/recovery-codes", data={"codes-password": "nope nope nope"})
    assert wrong.status_code == 400 and "Das Passwort ist falsch" in wrong.get_data(as_text=True)
    renewed = client.post("/operator/account/two-factor/recovery-codes", data={"codes-password": PASSWORD})
    new_codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", renewed.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)

    assert client.post("/operator/account/two-factor/disable",
                       data={"disable-password": "wrong password!"}).status_code == 400
    assert _account(db).has_two_factor
    assert client.post("/operator/account/two-factor/disable", data={"disable-password": PASSWORD}).status_code == 303
    assert not _account(db).has_two_factor
    client.post("/operator/logout")
    assert login(client).headers["Location"] == "/operator/"  # the password alone again


def test_changing_the_password_logs_out_every_other_browser_but_this_one(app, client, operator, db):
    assert login(client).status_code == 303
    thief = app.test_client()
    _copy_cookies(client, thief)
    second = app.test_client()
    assert login(second).status_code == 303

    refused = client.post("/operator/account/password",
                          data={"current": "not the password", "new": "a new long password", "repeated": "a new long password"})
    assert refused.status_code == 400 and "Das aktuelle Passwort ist falsch" in refused.get_data(as_text=True)
    short = client.post("/operator/account/password", data={"current": PASSWORD, "new": "short", "repeated": "short"})
    assert short.status_code == 400 and "mindestens 10 Zeichen" in short.get_data(as_text=True)
    differ = client.post("/operator/account/password",
                         data={"current": PASSWORD, "new": "a new long password", "repeated": "a new long passwort"})
    assert differ.status_code == 400
    assert _account(db).check_password(PASSWORD)  # nothing changed

    done = client.post("/operator/account/password",
                       data={"current": PASSWORD, "new": "a new long password", "repeated": "a new long password"})
    assert done.status_code == 303
    assert client.get("/operator/").status_code == 200
    assert thief.get("/operator/").status_code == 302
    assert second.get("/operator/").status_code == 302
    assert _account(db).check_password("a new long password")


def test_log_out_everywhere_ends_this_and_every_other_browser(app, client, operator):
    assert login(client).status_code == 303
    second = app.test_client()
    assert login(second).status_code == 303
    assert client.post("/operator/account/logout-everywhere").status_code == 303
    assert client.get("/operator/").status_code == 302
    assert second.get("/operator/").status_code == 302


def test_the_account_page_needs_a_login(client, operator):
    for url in ["/operator/account"]:
        assert client.get(url).status_code == 302
    for url in ["/operator/account/password", "/operator/account/two-factor/setup",
                "/operator/account/logout-everywhere"]:
        assert client.post(url).status_code == 302


def test_reset_2fa_from_the_command_line(client, runner, operator, db, frozen_now):
    assert login(client).status_code == 303
    _enroll(client, frozen_now)
    result = runner.invoke(args=["operator", "reset-2fa", "--email", "OP@example.com"])
    assert result.exit_code == 0, result.output
    assert not _account(db).has_two_factor
    assert client.get("/operator/").status_code == 302  # its sessions ended
    unknown = runner.invoke(args=["operator", "reset-2fa", "--email", "nobody@example.com"])
    assert unknown.exit_code == 1 and "no operator" in unknown.output


def test_operator_create_says_how_to_enroll(runner, db):
    result = runner.invoke(args=["operator", "create", "--email", "new@example.com"], input="a long password\n")
    assert result.exit_code == 0 and "/operator/account" in result.output


def test_the_dashboard_recommends_the_second_factor_until_it_is_set_up(client, operator, frozen_now):
    assert login(client).status_code == 303
    assert "data-two-factor-missing" in client.get("/operator/").get_data(as_text=True)
    _enroll(client, frozen_now)
    assert "data-two-factor-missing" not in client.get("/operator/").get_data(as_text=True)
