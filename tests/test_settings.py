"""The settings store: parsing and validation, the panel page, the command line, the cache, and
bookings that keep the rules they were made under."""
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from reflexion.settings import registry, setting, store
from reflexion.settings.models import SettingChange, StoredSetting
from reflexion.settings.operations import SettingsInvalid, change_settings, next_terms_version

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)      # Mon 09:00 MEZ


def _text(response):
    return response.get_data(as_text=True)


# --- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, stored", [("90", "90.00"), ("90,5", "90.50"), ("0", "0.00"), (" 120.00 ", "120.00")])
def test_fee_is_stored_with_two_decimals(app, raw, stored):
    assert registry.KEYS["FEE_AMOUNT"].parse(raw) == stored


@pytest.mark.parametrize("raw", ["-1", "90.001", "abc", "", "1e3"])
def test_bad_fees_are_refused(app, raw):
    with pytest.raises(registry.Invalid):
        registry.KEYS["FEE_AMOUNT"].parse(raw)


def test_iban_and_bic_are_checked_with_schwifty_and_normalised(app):
    assert registry.parse_iban("de02120300000000202051") == "DE02 1203 0000 0000 2020 51"
    assert registry.parse_iban("SE45 5000 0000 0583 9825 7466") == "SE45 5000 0000 0583 9825 7466"
    with pytest.raises(registry.Invalid):
        registry.parse_iban("DE02 1203 0000 0000 2020 52")   # check digits wrong
    assert registry.parse_bic("byladem1001") == "BYLADEM1001"
    with pytest.raises(registry.Invalid):
        registry.parse_bic("BYLA")


def test_numbers_percent_currency_and_addresses(app):
    keys = registry.KEYS
    assert keys["SESSION_MINUTES"].parse("0,1") == 0.1
    assert keys["HORIZON_DAYS"].parse("30") == 30
    for key, raw in [("HORIZON_DAYS", "2.5"), ("SESSION_MINUTES", "0"), ("REFUND_PERCENT_BEFORE_CUTOFF", "101"),
                     ("BUFFER_MINUTES", "-5"), ("CURRENCY", "USD"), ("CONTACT_EMAIL", "not an address"),
                     ("MAIL_DEFAULT_SENDER", "Praxis <nobody>"), ("NOTICE_URLS", "just text")]:
        with pytest.raises(registry.Invalid):
            keys[key].parse(raw)
    assert keys["CURRENCY"].parse("sek") == "SEK"
    assert keys["MAIL_DEFAULT_SENDER"].parse("Praxis Nord <post@praxis.example>") == "Praxis Nord <post@praxis.example>"
    assert keys["MAIL_OPERATOR_NOTICE"].parse("") is None
    assert keys["NOTICE_URLS"].parse("ntfy://ntfy.sh/abc\ntgram://token/chat") == ["ntfy://ntfy.sh/abc", "tgram://token/chat"]
    assert keys["NOTICE_URLS"].parse("mailto://u:p@mail.example?to=a@x.org,b@y.org\nntfy://ntfy.sh/t") == [
        "mailto://u:p@mail.example?to=a@x.org,b@y.org", "ntfy://ntfy.sh/t"]      # one per line keeps commas
    assert keys["POSTAL_ADDRESS"].parse(" Weg 1 \r\n\r\n 10115 Berlin ") == "Weg 1\n10115 Berlin"


def test_platforms_keep_the_environment_form_and_are_structured(app):
    assert setting("PLATFORMS") == [{"platform": "teams", "handle": "kontakt@internet-reflexion.example"}]
    parsed = registry.KEYS["PLATFORMS"].parse("teams=me@example.org, whatsapp=+49 170 1234567")
    # the platforms' own rules (reflexion/platforms) normalise the handles: phone numbers to E.164
    assert parsed == [{"platform": "teams", "handle": "me@example.org"}, {"platform": "whatsapp", "handle": "+491701234567"}]
    assert registry.KEYS["PLATFORMS"].text(parsed) == "teams=me@example.org, whatsapp=+491701234567"
    for bad in ["", "teams", "teams=a,teams=b", "skype=live:me", "whatsapp=not a number"]:
        with pytest.raises(registry.Invalid):
            registry.KEYS["PLATFORMS"].parse(bad)


def test_the_platforms_validator_can_be_swapped(app):
    def only_teams(entries):
        if any(e["platform"] != "teams" for e in registry.check_platforms_shape(entries)):
            raise registry.Invalid("unknown platform")
        return entries

    before = registry._platform_rules["validate"]
    registry.replace_rules("PLATFORMS", validate=only_teams)
    try:
        with pytest.raises(registry.Invalid):
            registry.KEYS["PLATFORMS"].parse("skype=old")
    finally:
        registry.replace_rules("PLATFORMS", validate=before)


def test_terms_version_counts_up_per_day():
    today = date(2026, 12, 2)
    assert next_terms_version("2026-11", today) == "2026-12-02.1"
    assert next_terms_version("2026-12-02.1", today) == "2026-12-02.2"
    assert next_terms_version("2026-12-01.4", today) == "2026-12-02.1"


# --- changing: all or nothing, audit, rules across keys, cache --------------------------------

def test_a_change_is_stored_audited_and_read_at_once(app, db):
    assert setting("FEE_AMOUNT") == "90.00"                 # from the environment
    changes = change_settings({"FEE_AMOUNT": "95", "BRAND": "Praxis Nord"}, actor="op@example.com")
    db.session.commit()
    assert {c.key for c in changes} == {"FEE_AMOUNT", "BRAND"}
    assert setting("FEE_AMOUNT") == "95.00" and setting("BRAND") == "Praxis Nord"
    audit = db.session.scalars(select(SettingChange).where(SettingChange.key == "FEE_AMOUNT")).one()
    assert (audit.actor, json.loads(audit.old_value), json.loads(audit.new_value)) == ("op@example.com", "90.00", "95.00")


def test_one_bad_value_saves_nothing(app, db):
    with pytest.raises(SettingsInvalid) as caught:
        change_settings({"FEE_AMOUNT": "95", "BANK_IBAN": "DE00 0000"}, actor="op@example.com")
    db.session.rollback()
    assert set(caught.value.errors) == {"BANK_IBAN"}
    assert db.session.scalar(select(func.count()).select_from(StoredSetting)) == 0
    assert setting("FEE_AMOUNT") == "90.00"


@pytest.mark.parametrize("texts, key", [
    ({"MIN_NOTICE_HOURS": "2000"}, "MIN_NOTICE_HOURS"),           # longer than 56 days
    ({"HORIZON_DAYS": "1"}, "MIN_NOTICE_HOURS"),                  # the notice (24 h) no longer fits
    ({"PAYMENT_CUTOFF_HOURS": "80"}, "PAYMENT_CUTOFF_HOURS"),     # window is 72 h
    ({"NO_ANSWER_MINUTES": "45"}, "NO_ANSWER_MINUTES"),
    ({"REFUND_PERCENT_AFTER_CUTOFF": "50", "REFUND_PERCENT_BEFORE_CUTOFF": "40"}, "REFUND_PERCENT_AFTER_CUTOFF"),
])
def test_rules_across_keys(app, db, texts, key):
    with pytest.raises(SettingsInvalid) as caught:
        change_settings(texts, actor="cli")
    assert key in caught.value.errors


def test_secret_urls_are_not_kept_readable_in_the_audit(app, db):
    change_settings({"NOTICE_URLS": "tgram://123:secret-token/456"}, actor="cli")
    db.session.commit()
    audit = db.session.scalars(select(SettingChange).where(SettingChange.key == "NOTICE_URLS")).one()
    assert "secret" not in audit.new_value and json.loads(audit.new_value) == ["tgram://…"]
    assert setting("NOTICE_URLS") == ["tgram://123:secret-token/456"]


def test_a_change_from_another_process_reaches_this_one_without_a_restart(app, db, make_app):
    other = make_app()
    assert setting("MIN_NOTICE_HOURS") == 24.0
    with other.app_context():
        change_settings({"MIN_NOTICE_HOURS": "2"}, actor="cli")
        db.session.commit()
    assert setting("MIN_NOTICE_HOURS") == 2.0    # no forget() here: the version row told this app


def test_a_request_reads_the_version_once(app, db, client):
    queries = []
    from sqlalchemy import event

    def count(conn, cursor, statement, *args):
        if "settings_version" in statement:
            queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/de/book").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(queries) == 1


def test_new_session_rules_start_a_new_terms_version(app, db, frozen_now):
    frozen_now(datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc))
    changes = change_settings({"SESSION_MINUTES": "50"}, actor="cli")
    db.session.commit()
    assert [c.key for c in changes] == ["SESSION_MINUTES", "TERMS_VERSION"]
    assert setting("TERMS_VERSION") == "2026-12-02.1"
    change_settings({"NO_ANSWER_MINUTES": "10"}, actor="cli")
    db.session.commit()
    assert setting("TERMS_VERSION") == "2026-12-02.2"
    assert change_settings({"FEE_AMOUNT": "90.00"}, actor="cli") == []      # unchanged: nothing written


# --- bookings keep their rules ------------------------------------------------------------

def test_a_booking_keeps_the_rules_it_was_made_under(app, db, weekly_hours, frozen_now):
    from reflexion.booking import operations
    from reflexion.conversations.deadlines import hard_end, no_answer_deadline

    frozen_now(NOW)
    start = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)    # Wed 10:00 MEZ
    old = operations.book_slot(start, name="Erika Muster", email="e@example.org", call_handle="erika.m@example.org",
                               lang="de", accepted_terms=True, early_start_requested=True).booking
    db.session.commit()
    change_settings({"SESSION_MINUTES": "50", "NO_ANSWER_MINUTES": "10", "FEE_AMOUNT": "100"}, actor="cli")
    db.session.commit()
    new = operations.book_slot(datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc), name="Sven Svensson", email="s@example.org",
                               call_handle="sven.s@example.org", lang="sv", accepted_terms=True, early_start_requested=True).booking
    db.session.commit()
    assert (old.session_minutes, old.no_answer_minutes, old.terms_version, old.fee_cents) == (45.0, 15.0, "2026-12", 9000)
    assert (new.session_minutes, new.no_answer_minutes, new.fee_cents) == (50.0, 10.0, 10000)
    assert new.terms_version == "2026-11-23.1"
    assert hard_end(old) - old.start_at == timedelta(minutes=45)
    assert no_answer_deadline(old) - old.start_at == timedelta(minutes=15)
    assert no_answer_deadline(new) - new.start_at == timedelta(minutes=10)


# --- the page -------------------------------------------------------------------------------

@pytest.fixture
def operator_client(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    response = client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    return client


def test_the_page_needs_a_login(client):
    response = client.get("/operator/settings/")
    assert response.status_code in (302, 303) and "/operator/login" in response.headers["Location"]
    assert client.post("/operator/settings/", data={"FEE_AMOUNT": "1"}).status_code in (302, 303, 401, 403)
    assert setting("FEE_AMOUNT") == "90.00"


def test_the_page_shows_groups_and_current_values_in_german(operator_client):
    html = _text(operator_client.get("/operator/settings/"))
    for label in ("Gebühr und Bankverbindung", "Buchungsregeln", "Aufbewahrung", "E-Mail und Benachrichtigungen"):
        assert label in html
    assert 'name="BANK_IBAN"' in html and "DE02 1203 0000 0000 2020 51" in html
    assert 'href="/operator/settings/"' in html    # in the operator navigation


def test_a_bad_iban_gives_a_localized_4xx_and_saves_nothing(operator_client, db):
    response = operator_client.post("/operator/settings/", data={
        "FEE_AMOUNT": "120", "BANK_IBAN": "DE02 1203 0000 0000 2020 52", "BRAND": "Neu"})
    html = _text(response)
    assert response.status_code == 422
    assert "Diese IBAN ist nicht gültig" in html
    assert 'value="DE02 1203 0000 0000 2020 52"' in html and 'value="120"' in html   # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(StoredSetting)) == 0
    assert db.session.scalar(select(func.count()).select_from(SettingChange)) == 0


def test_notice_longer_than_the_horizon_is_refused(operator_client, db):
    response = operator_client.post("/operator/settings/", data={"MIN_NOTICE_HOURS": "24", "HORIZON_DAYS": "1"})
    assert response.status_code == 422
    assert "Mindestvorlauf muss kürzer" in _text(response)


def test_a_good_submit_is_saved_audited_and_listed(operator_client, db):
    response = operator_client.post("/operator/settings/", data={"FEE_AMOUNT": "120,00", "CURRENCY": "EUR",
                                                                  "MIN_NOTICE_HOURS": "2"})
    assert response.status_code == 303
    store.forget()
    assert setting("FEE_AMOUNT") == "120.00" and setting("MIN_NOTICE_HOURS") == 2.0
    html = _text(operator_client.get("/operator/settings/"))
    rows = re.findall(r'<tr data-change="(\w+)">(.*?)</tr>', html, re.S)
    fee = next(body for key, body in rows if key == "FEE_AMOUNT")
    assert "op@example.com" in fee and "90.00" in fee and "120.00" in fee
    assert {key for key, _ in rows} == {"FEE_AMOUNT", "MIN_NOTICE_HOURS"}
    # the public pages follow
    assert "120,00" in _text(operator_client.get("/de/terms")) or "120,00" in _text(operator_client.get("/de/book"))


# --- the command line -----------------------------------------------------------------------

def test_cli_show_json_and_set(runner, db):
    result = runner.invoke(args=["settings", "show", "--json"])
    assert result.exit_code == 0
    values = json.loads(result.output)
    assert values["FEE_AMOUNT"] == "90.00" and values["PLATFORMS"][0]["platform"] == "teams"
    result = runner.invoke(args=["settings", "set", "FEE_AMOUNT", "99,90"])
    assert result.exit_code == 0, result.output
    assert "90.00 → 99.90" in result.output
    store.forget()
    assert setting("FEE_AMOUNT") == "99.90"
    audit = db.session.scalars(select(SettingChange)).one()
    assert audit.actor == "cli"


def test_cli_bad_value_exits_1_with_the_message_and_saves_nothing(runner, db):
    result = runner.invoke(args=["settings", "set", "BANK_IBAN", "DE00 1234"])
    assert result.exit_code == 1
    assert "BANK_IBAN" in result.output and "IBAN" in result.output
    result = runner.invoke(args=["settings", "set", "NO_SUCH_KEY", "1", "--lang", "sv"])
    assert result.exit_code == 1 and "NO_SUCH_KEY" in result.output
    assert db.session.scalar(select(func.count()).select_from(StoredSetting)) == 0


def test_settings_are_read_and_changed_with_redis_unreachable(app, db, make_app):
    """The database is the only store: a Redis outage changes nothing for settings."""
    offline = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with offline.app_context():
        change_settings({"FEE_AMOUNT": "80"}, actor="cli")
        db.session.commit()
        assert setting("FEE_AMOUNT") == "80.00"
        with offline.test_request_context("/"):
            assert setting("FEE_AMOUNT") == "80.00"


def test_the_migration_gives_existing_bookings_the_rules_they_were_made_under(app, db):
    """Bookings made before 0011 get their own length (end − start) and today's no-answer window."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    db.drop_all()
    upgrade(revision="20261201_0003")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO booking (ref, access_key_hash, state, start_at, end_at, name, email, call_handle, lang,"
            " created_at, created_by, terms_version, fee_cents, currency, ical_uid, ical_sequence, verify_failures)"
            " VALUES ('R-AAAA22', 'x', 'confirmed', :start, :end, 'A B', 'a@example.org', 'a.b', 'de', :start,"
            " 'client', '2026-11', 9000, 'EUR', 'u1@reflexion', 0, 0)"),
            {"start": "2026-12-01 09:00:00", "end": "2026-12-01 09:50:00"})  # text: no datetime adapter on 3.12+
    upgrade()
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT session_minutes, no_answer_minutes, terms_version FROM booking")).one()
        version = connection.execute(text("SELECT version FROM settings_version WHERE id = 1")).scalar()
    assert tuple(row) == (50.0, 15.0, "2026-11") and version == 0
    downgrade(revision="base")
    db.create_all()


def test_what_was_typed_is_escaped_in_the_messages(operator_client, db):
    response = operator_client.post("/operator/settings/", data={"NOTICE_URLS": "<b>bold</b>"})
    html = _text(response)
    assert response.status_code == 422
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold" in html
    assert "&lt;no-reply@example.org&gt;" in html   # the sender's help, shown as text


def test_the_terms_page_dates_a_version_made_by_the_settings(app, db, client, frozen_now):
    frozen_now(datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc))
    change_settings({"SESSION_MINUTES": "50"}, actor="cli")
    db.session.commit()
    assert "2. Dezember 2026" in _text(client.get("/de/terms"))
    assert "2 december 2026" in _text(client.get("/sv/terms"))


def test_saving_the_form_unchanged_changes_nothing(operator_client, db, app):
    app.config["FEE_AMOUNT"] = "90"                # an environment's value in another spelling
    html = _text(operator_client.get("/operator/settings/"))
    form = dict(re.findall(r'<input id="setting-\w+" name="(\w+)"[^>]*value="([^"]*)"', html))
    form.update(re.findall(r'<textarea id="setting-\w+" name="(\w+)"[^>]*>([^<]*)</textarea>', html))
    form.update(re.findall(r'<select id="setting-\w+" name="(\w+)"[^>]*>.*?<option value="(\w+)" selected', html, re.S))
    from html import unescape

    form = {key: unescape(value) for key, value in form.items()}
    assert set(form) == {k for k, e in registry.KEYS.items() if e.panel}
    response = operator_client.post("/operator/settings/", data=form)
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(SettingChange)) == 0
    assert "Nichts geändert." in _text(operator_client.get("/operator/settings/"))


def test_the_page_speaks_swedish_to_a_swedish_browser(operator_client, db):
    from flask import g

    g.pop("_flask_babel", None)   # the test's app context (and Flask-Babel's cached locale) spans its requests
    headers = {"Accept-Language": "sv-SE,sv;q=0.9"}
    html = _text(operator_client.get("/operator/settings/", headers=headers))
    assert 'lang="sv"' in html and "Avgift och bankkonto" in html and "Spara inställningar" in html
    response = operator_client.post("/operator/settings/", data={"BANK_IBAN": "SE00 1234"}, headers=headers)
    assert response.status_code == 422 and "Detta IBAN är inte giltigt" in _text(response)
    assert db.session.scalar(select(func.count()).select_from(StoredSetting)) == 0


def test_the_operators_own_legal_texts_replace_the_built_in_ones_per_language(operator_client, client, db):
    """Saved in the panel (the database store), shown on that language's page only, escaped;
    a new terms text starts a new terms version."""
    before = setting("TERMS_VERSION")
    response = operator_client.post("/operator/settings/", data={
        **_current_form(operator_client),
        "IMPRINT_TEXT_SV": "# Om praktiken\n\nAnna Andersson <b>AB</b>\n\n- Storgatan 1\n- 111 22 Stockholm",
        "TERMS_TEXT_DE": "# Unsere AGB\n\nEigener Text."})
    assert response.status_code == 303
    swedish = client.get("/sv/imprint").get_data(as_text=True)
    assert "Anna Andersson &lt;b&gt;AB&lt;/b&gt;" in swedish and "<li>Storgatan 1</li>" in swedish
    assert "Anna Andersson" not in client.get("/de/imprint").get_data(as_text=True)
    assert "Eigener Text." in client.get("/de/terms").get_data(as_text=True)
    assert setting("TERMS_VERSION") != before
    assert db.session.scalar(select(func.count()).select_from(SettingChange)
                             .where(SettingChange.key.in_(["IMPRINT_TEXT_SV", "TERMS_TEXT_DE"]))) == 2


def _current_form(operator_client) -> dict:
    from html import unescape

    html = operator_client.get("/operator/settings/").get_data(as_text=True)
    form = dict(re.findall(r'<input id="setting-\w+" name="(\w+)"[^>]*value="([^"]*)"', html))
    form.update(re.findall(r'<textarea id="setting-\w+" name="(\w+)"[^>]*>([^<]*)</textarea>', html))
    form.update(re.findall(r'<select id="setting-\w+" name="(\w+)"[^>]*>.*?<option value="(\w+)" selected', html, re.S))
    return {key: unescape(value) for key, value in form.items()}
