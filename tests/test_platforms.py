"""Call platforms: the registry, the operator's choice, and a client booking one of them.

The operator offers Microsoft Teams and WhatsApp here; the client picks one on the booking
form and gives their handle in that platform's form. Everything after (pages, e-mails, the
invite, the operator's panel) names the booked platform, also once it is no longer offered.
"""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select

from mail_helpers import outbox_messages, run_worker
from reflexion import platforms
from reflexion.booking.models import Booking
from reflexion.booking.payments import confirm_payment
from reflexion.calendar.invite import invite_bytes
from reflexion.pages.models import ContactMessage

UTC = timezone.utc
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 MEZ
TUESDAY_NINE = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SLOT = "2026-11-24T08:00:00Z"
TEAMS_AND_WHATSAPP = "teams=kontakt@example.org,whatsapp=+49 151 11122233"
OPERATOR_PHONE = "+4915111122233"
ROOT = Path(__file__).resolve().parent.parent

#: The German and Swedish ways of saying "not a valid phone number" (the catalogs' words).
BAD_PHONE = {"de": "Das ist keine gültige Telefonnummer.", "sv": "Det är inte ett giltigt telefonnummer."}
WANTS_PHONE = {"de": "Bei WhatsApp rufen wir Sie unter einer Telefonnummer an.",
               "sv": "På WhatsApp ringer vi upp dig på ett telefonnummer."}


@pytest.fixture
def two_platforms(app_config):
    app_config["PLATFORMS"] = TEAMS_AND_WHATSAPP
    return app_config


def _bookings(db):
    return db.session.scalar(select(func.count()).select_from(Booking))


def _post(client, lang, **fields):
    data = {"name": "Erika Muster", "email": "erika@example.org", "accept_terms": "y", "early_start": "y", **fields}
    return client.post(f"/{lang}/book/{SLOT}", data=data)


# -- the registry ------------------------------------------------------------------------------

def test_the_registry_knows_todays_platforms_and_not_skype():
    assert {"teams", "zoom", "whatsapp", "signal", "facetime"} <= set(platforms.REGISTRY)
    assert "skype" not in platforms.REGISTRY
    assert platforms.DEFAULT_PLATFORM == "teams"
    for platform in platforms.REGISTRY.values():
        assert platform.kinds and platform.name and platform.field_hint and "%(handle)s" in str(platform.client_hint)


@pytest.mark.parametrize("platform, raw, lang, stored", [
    ("whatsapp", "0151 2345 6789", "de", "+4915123456789"),       # German national form, spaces
    ("whatsapp", "070-123 45 67", "sv", "+46701234567"),           # Swedish national form
    ("whatsapp", "+46 (0)70 123 45 67", "de", "+46701234567"),     # international wins over the language
    ("teams", "Erika.Muster@Example.ORG", "de", "Erika.Muster@example.org"),
    ("teams", "0151 23456789", "de", "+4915123456789"),
    ("signal", "erika.42", "de", "erika.42"),
    ("signal", "+49 151 23456789", "sv", "+4915123456789"),
    ("facetime", "erika@icloud.com", "sv", "erika@icloud.com"),
    ("telegram", "erika_muster", "de", "@erika_muster"),
    ("zoom", " erika@example.org ", "de", "erika@example.org"),
])
def test_client_handles_are_normalised_per_platform(app, platform, raw, lang, stored):
    with app.test_request_context():
        assert platforms.normalize_client_handle(platform, raw, lang) == stored


@pytest.mark.parametrize("lang", ["de", "sv"])
@pytest.mark.parametrize("platform, raw, expected", [
    ("whatsapp", "erika@example.org", WANTS_PHONE),
    ("whatsapp", "0151 234", BAD_PHONE),
    ("zoom", "+49 151 23456789", {"de": "Bei Zoom rufen wir Sie über eine E-Mail-Adresse an.",
                                  "sv": "På Zoom ringer vi upp dig via en e-postadress."}),
    ("signal", "erika.muster", {"de": "Ein Signal-Benutzername endet mit einem Punkt",
                                "sv": "Ett användarnamn på Signal slutar med en punkt"}),
    ("teams", "erika muster", {"de": "Bitte geben Sie eine Angabe ein, unter der Microsoft Teams Sie findet",
                               "sv": "Ange något som Microsoft Teams hittar dig med"}),
])
def test_a_handle_that_does_not_fit_its_platform_is_refused_in_the_clients_language(app, lang, platform, raw,
                                                                                     expected):
    with app.test_request_context(), force_locale(lang):
        with pytest.raises(platforms.HandleError) as error:
            platforms.normalize_client_handle(platform, raw, lang)
    assert expected[lang] in str(error.value)


def test_call_links_are_the_ones_the_platforms_document():
    get = platforms.REGISTRY.get
    assert get("whatsapp").call_link("+4915123456789") == "https://wa.me/4915123456789"
    assert get("signal").call_link("+4915123456789") == "https://signal.me/#p/+4915123456789"
    assert get("facetime").call_link("erika@icloud.com") == "facetime:erika@icloud.com"
    assert get("teams").call_link("erika@example.org") == (
        "https://teams.microsoft.com/l/call/0/0?users=erika@example.org&withVideo=true")
    assert get("telegram").call_link("@erika_muster") == "https://t.me/erika_muster"
    assert get("zoom").call_link("erika@example.org") is None  # Zoom documents no link to ring a contact
    assert get("signal").call_link("erika.42") is None  # a user name needs an encrypted link


# -- the operator's choice (the PLATFORMS setting) ---------------------------------------------

def test_the_setting_is_read_from_the_env_string_or_a_stored_list(app):
    with app.test_request_context():
        assert platforms.validate_enabled("teams=kontakt@example.org, whatsapp=+49 151 11122233") == [
            {"platform": "teams", "handle": "kontakt@example.org"},
            {"platform": "whatsapp", "handle": OPERATOR_PHONE}]
        assert platforms.validate_enabled([{"platform": "Signal", "handle": "+46 70 123 45 67"}]) == [
            {"platform": "signal", "handle": "+46701234567"}]
        app.config["PLATFORMS"] = [{"platform": "whatsapp", "handle": "+4915111122233"},
                                   {"platform": "teams", "handle": "kontakt@example.org"}]
        assert [(e.id, e.handle) for e in platforms.enabled_platforms()] == [
            ("whatsapp", OPERATOR_PHONE), ("teams", "kontakt@example.org")]
        assert platforms.default_platform() == "whatsapp"


@pytest.mark.parametrize("value, de, sv", [
    ("skype=live:praxis", "Unbekannte Plattform „skype“", "Okänd plattform ”skype”"),
    ("whatsapp=praxis", "Ihre Kennung bei WhatsApp:", "Ditt namn eller nummer på WhatsApp:"),
    ("teams=a@example.org,teams=b@example.org", "Microsoft Teams ist doppelt aufgeführt.",
     "Microsoft Teams står med två gånger."),
    ("", "Bitte schalten Sie mindestens eine Plattform", "Slå på minst en plattform"),
    ([], "Bitte schalten Sie mindestens eine Plattform", "Slå på minst en plattform"),
    ("teams", "plattform=kennung", "plattform=namn"),
])
def test_a_bad_setting_is_refused_with_a_localized_message(app, value, de, sv):
    for lang, expected in (("de", de), ("sv", sv)):
        with app.test_request_context(), force_locale(lang):
            with pytest.raises(ValueError) as error:
                platforms.validate_enabled(value)
        assert expected in str(error.value)


# -- booking a platform ------------------------------------------------------------------------

@pytest.mark.parametrize("lang, legend", [("de", "Worüber sollen wir Sie anrufen?"), ("sv", "Var ska vi ringa upp dig?")])
def test_the_form_offers_the_enabled_platforms_with_every_hint_readable(two_platforms, client, db, weekly_hours,
                                                                        frozen_now, lang, legend):
    frozen_now(MONDAY_MORNING)
    html = client.get(f"/{lang}/book/{SLOT}").get_data(as_text=True)
    assert legend in html
    assert re.search(r'<input type="radio" name="call_platform" id="call_platform-teams" value="teams"[^>]*checked', html)
    assert 'value="whatsapp"' in html and ">WhatsApp</span>" in html and ">Microsoft Teams</span>" in html
    assert 'data-platform-hint="teams"' in html and 'data-platform-hint="whatsapp"' in html
    assert 'name="call_handle"' in html and "/static/js/platforms.js" in html
    assert "<script>" not in html  # the hint switch is a static file (CSP)


def test_with_one_platform_the_form_names_it_without_a_choice(client, db, weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    html = client.get(f"/de/book/{SLOT}").get_data(as_text=True)
    assert 'type="radio"' not in html
    assert 'type="hidden" name="call_platform" value="teams"' in html
    assert "Wir rufen Sie über Microsoft Teams an." in html


@pytest.mark.parametrize("lang, national, stored", [("de", "0151 2345 6789", "+4915123456789"),
                                                    ("sv", "070 123 45 67", "+46701234567")])
def test_a_client_books_a_whatsapp_call_with_a_national_phone_number(two_platforms, client, db, weekly_hours,
                                                                     frozen_now, lang, national, stored):
    frozen_now(MONDAY_MORNING)
    response = _post(client, lang, call_platform="whatsapp", call_handle=national)
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert (booking.call_platform, booking.call_handle, booking.operator_handle) == ("whatsapp", stored, OPERATOR_PHONE)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-booked-platform="whatsapp"' in page and "WhatsApp" in page and OPERATOR_PHONE in page


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_a_client_books_a_teams_call_with_an_email_address(two_platforms, client, db, weekly_hours, frozen_now, lang):
    frozen_now(MONDAY_MORNING)
    response = _post(client, lang, call_platform="teams", call_handle="erika.muster@example.org")
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert (booking.call_platform, booking.call_handle) == ("teams", "erika.muster@example.org")
    assert booking.operator_handle == "kontakt@example.org"


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_a_wrong_handle_for_the_platform_is_a_localized_400_and_nothing_is_saved(two_platforms, client, db,
                                                                                 weekly_hours, frozen_now, lang):
    frozen_now(MONDAY_MORNING)
    response = _post(client, lang, call_platform="whatsapp", call_handle="erika.muster@example.org")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert WANTS_PHONE[lang] in html and 'id="call_handle-error"' in html
    assert 'value="erika.muster@example.org"' in html  # the form keeps what was typed
    assert re.search(r'value="whatsapp"[^>]*checked', html)  # and the platform chosen
    assert _bookings(db) == 0


def test_a_platform_that_is_not_offered_is_refused(two_platforms, client, db, weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    response = _post(client, "de", call_platform="zoom", call_handle="erika@example.org")
    assert response.status_code == 400
    assert "Bitte wählen Sie eine der angebotenen Plattformen" in response.get_data(as_text=True)
    assert _bookings(db) == 0


def test_the_domain_applies_the_rule_without_the_form(two_platforms, app, db, frozen_now):
    """book_slot itself refuses a handle that does not fit (the CLI and the operator go through it too)."""
    from reflexion.booking import operations

    frozen_now(MONDAY_MORNING)
    with app.test_request_context("/de/"):
        with pytest.raises(operations.InvalidCallHandle) as error:
            operations.book_as_operator(TUESDAY_NINE, name="Erika", email="e@example.org",
                                       call_handle="erika.muster", call_platform="whatsapp")
        assert "WhatsApp" in error.value.message
        with pytest.raises(operations.InvalidCallHandle):
            operations.book_as_operator(TUESDAY_NINE, name="Erika", email="e@example.org",
                                       call_handle="+4915123456789", call_platform="zoom")
    db.session.rollback()
    assert _bookings(db) == 0


def test_the_cli_books_a_platform_and_applies_the_same_rule(two_platforms, runner, db, frozen_now):
    frozen_now(MONDAY_MORNING)
    def create(*extra, start="2026-11-29T21:30:00+01:00"):
        return runner.invoke(args=["bookings", "create", "--start", start, "--name", "Per Svensson",
                                   "--email", "per@example.se", "--lang", "sv", "--json", *extra])

    bad = create("--platform", "whatsapp", "--handle", "per@example.se")
    assert bad.exit_code == 1 and "--handle" in bad.output
    assert _bookings(db) == 0
    good = create("--platform", "whatsapp", "--handle", "070 123 45 67")
    assert good.exit_code == 0, good.output
    assert '"call_platform": "whatsapp"' in good.output and '"call_handle": "+46701234567"' in good.output
    default = create("--handle", "per@example.se", start="2026-11-30T21:30:00+01:00")
    assert default.exit_code == 0, default.output
    assert '"call_platform": "teams"' in default.output  # the first enabled


def test_the_contact_form_stores_the_platform_with_the_handle(two_platforms, client, db):
    response = client.post("/sv/contact", data={"name": "Per Svensson", "email": "per@example.se",
                                                "call_platform": "whatsapp", "call_handle": "070 123 45 67",
                                                "message": "Hej!"})
    assert response.status_code == 303
    message = db.session.scalar(select(ContactMessage))
    assert (message.call_platform, message.call_handle) == ("whatsapp", "+46701234567")
    bad = client.post("/sv/contact", data={"name": "Per Svensson", "email": "per@example.se",
                                           "call_platform": "whatsapp", "call_handle": "per.s", "message": "Hej!"})
    assert bad.status_code == 400 and WANTS_PHONE["sv"] in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 1


# -- the booked platform everywhere after --------------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "sv"])
def test_the_emails_and_the_invite_name_the_booked_platform(two_platforms, app, client, db, jobs, weekly_hours,
                                                            frozen_now, lang):
    frozen_now(MONDAY_MORNING)
    assert _post(client, lang, call_platform="whatsapp", call_handle="+46 70 123 45 67").status_code == 303
    run_worker(app)  # "booking received"
    booking = db.session.scalar(select(Booking))
    confirm_payment(booking)
    db.session.commit()
    run_worker(app)  # "booking confirmed", with the invite
    sent = outbox_messages(app)
    assert len(sent) == 2, [m["Subject"] for m in sent]
    received, confirmed = sent
    for message in (received, confirmed):
        for subtype in ("plain", "html"):
            body = message.get_body(preferencelist=(subtype,)).get_content()
            assert "WhatsApp" in body and OPERATOR_PHONE in body, (message["Subject"], subtype)
            assert "Microsoft Teams" not in body
            assert "+46701234567" not in body  # the client's own number is not sent by e-mail
    with app.test_request_context(f"/{lang}/"):
        event = Calendar.from_ical(invite_bytes(booking)).walk("VEVENT")[0]
    assert "WhatsApp" in str(event["SUMMARY"])
    assert str(event["LOCATION"]).startswith("WhatsApp") and OPERATOR_PHONE in str(event["LOCATION"])
    assert "WhatsApp" in str(event["DESCRIPTION"]) and OPERATOR_PHONE in str(event["DESCRIPTION"])


def test_the_cancellation_email_names_the_booked_platform(two_platforms, app, db, jobs, make_booking, frozen_now):
    from reflexion.booking.cancellation import cancel_booking
    from reflexion.booking.states import Actor

    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE, call_platform="whatsapp", call_handle="+46701234567", lang="sv")
    cancel_booking(booking, actor=Actor.OPERATOR)
    db.session.commit()
    run_worker(app)
    (message,) = outbox_messages(app)
    for subtype in ("plain", "html"):
        assert "WhatsApp" in message.get_body(preferencelist=(subtype,)).get_content()


def test_a_teams_booking_keeps_teams_when_the_operator_later_offers_only_whatsapp(two_platforms, app, client, db,
                                                                                  weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    response = _post(client, "de", call_platform="teams", call_handle="erika@example.org")
    created = client.get(response.headers["Location"]).get_data(as_text=True)
    ref = re.search(r"data-booking-ref>([^<]+)<", created).group(1)
    booking = db.session.scalar(select(Booking))
    confirm_payment(booking)
    db.session.commit()

    app.config["PLATFORMS"] = "whatsapp=+49 151 11122233"  # the settings store's job later; read via setting()
    page = client.get(f"/de/booking/{ref}").get_data(as_text=True)  # this browser booked it: open
    assert 'data-booked-platform="teams"' in page and "Microsoft Teams" in page
    assert "data-operator-handle>kontakt@example.org<" in page  # the handle recorded at booking
    with app.test_request_context("/de/"):
        event = Calendar.from_ical(invite_bytes(booking)).walk("VEVENT")[0]
    assert "Microsoft Teams" in str(event["SUMMARY"]) and "WhatsApp" not in str(event["SUMMARY"])
    assert "kontakt@example.org" in str(event["LOCATION"])
    form = client.get("/de/book/2026-11-24T10:00:00Z").get_data(as_text=True)
    assert 'type="hidden" name="call_platform" value="whatsapp"' in form  # new bookings: WhatsApp only
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).call_platform == "teams"


# -- the operator -------------------------------------------------------------------------------

@pytest.fixture
def operator_client(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    response = client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    return client


@pytest.mark.parametrize("platform, handle, link", [
    ("whatsapp", "+4915123456789", 'href="https://wa.me/4915123456789"'),
    ("teams", "erika@example.org", 'href="https://teams.microsoft.com/l/call/0/0?users=erika@example.org&amp;withVideo=true"'),
    ("zoom", "erika@example.org", None),
])
def test_the_panel_shows_platform_handle_copy_button_and_call_link(two_platforms, operator_client, make_booking,
                                                                   frozen_now, platform, handle, link):
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE, state="confirmed", call_platform=platform, call_handle=handle)
    html = operator_client.get(f"/operator/sessions/{booking.id}").get_data(as_text=True)
    name = platforms.display_name(platform)
    assert f'data-booked-platform="{platform}"' in html and name in html
    shown = re.search(r"<code data-call-handle[^>]*>(.*?)</code>", html).group(1)
    assert re.sub(r"<[^>]+>", "", shown) == handle  # in parts that wrap only between them
    assert re.search(rf'<button type="button" class="copy" data-copy="{re.escape(handle)}"', html)
    if link:
        assert link in html and "data-call-link" in html
    else:
        assert "data-call-link" not in html
    dashboard = operator_client.get("/operator/").get_data(as_text=True)
    assert f'data-booked-platform="{platform}">{name}<' in dashboard


def test_the_operator_books_with_the_same_rule(two_platforms, operator_client, db, frozen_now):
    frozen_now(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    data = {"day": "2026-11-29", "start_time": "21:30", "name": "Per Svensson", "email": "per@example.se",
            "lang": "sv", "call_platform": "whatsapp"}
    bad = operator_client.post("/operator/bookings/new", data={**data, "call_handle": "per.svensson"})
    assert bad.status_code == 400 and 'id="call_handle-error"' in bad.get_data(as_text=True)
    assert _bookings(db) == 0
    good = operator_client.post("/operator/bookings/new", data={**data, "call_handle": "070 123 45 67"})
    assert good.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert (booking.call_platform, booking.call_handle) == ("whatsapp", "+46701234567")  # read as Swedish


# -- no platform written anywhere but the registry -------------------------------------------------

def _platform_names():
    names = {p.name for p in platforms.REGISTRY.values()} | {"Skype"}
    # "Microsoft Teams" and "Google Meet" are also written "Teams" and "Meet"
    return names | {word for name in names for word in name.split() if word not in {"Microsoft", "Google"}}


def _found(text, names):
    return sorted(name for name in names if re.search(rf"(?<!\w){re.escape(name)}(?![\w])", text, re.IGNORECASE
                                                          if name == "Skype" else 0))


def test_no_template_message_or_catalog_names_a_platform_outside_the_registry():
    """Pages, e-mails, invites and texts name platforms through reflexion/platforms only (Skype included)."""
    names = _platform_names()
    offenders = []
    sources = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.txt"), *ROOT.glob("static/js/*.js"),
               *(p for p in ROOT.glob("reflexion/**/*.py") if p != ROOT / "reflexion" / "platforms.py")]
    for path in sources:
        if path.name.endswith(".min.js"):
            continue
        found = _found(path.read_text(encoding="utf-8"), names)
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(found)}")
    for catalog in ROOT.glob("reflexion/translations/*/LC_MESSAGES/messages.po"):
        with catalog.open("rb") as handle:
            messages = read_po(handle)
        for message in messages:
            if not message.id or all(path == "reflexion/platforms.py" for path, _ in message.locations):
                continue  # the registry's own hints
            texts = [message.id, message.string] if isinstance(message.id, str) else [*message.id, *message.string]
            found = _found("\n".join(t or "" for t in texts), names)
            if found:
                offenders.append(f"{catalog.relative_to(ROOT)}: {message.id!r}: {', '.join(found)}")
    assert not offenders, "platform names outside reflexion/platforms.py:\n" + "\n".join(offenders)


def test_the_hard_coded_name_check_would_catch_one():
    names = _platform_names()
    assert _found("Wir rufen Sie über Skype an.", names) == ["Skype"]
    assert _found("Installieren Sie die Teams-App", names) == ["Teams"]
    assert _found("Signal, WhatsApp", names) == ["Signal", "WhatsApp"]
    assert _found("signals.py und Signale", names) == []


def test_the_migration_puts_existing_bookings_and_messages_on_the_default_platform(app):
    """Rows from before platforms existed: on Microsoft Teams, their call handles unchanged."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from reflexion.extensions import db

    db.drop_all()
    upgrade(revision="20261201_0003")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO booking (ref, access_key_hash, state, start_at, end_at, name, email, call_handle, lang,"
            " created_at, created_by, fee_cents, currency, ical_uid, ical_sequence, verify_failures)"
            " VALUES ('R-OLD001', 'x', 'confirmed', :t, :t, 'Old Client', 'old@example.org', 'old.skype.name',"
            " 'de', :t, 'client', 9000, 'EUR', 'old@reflexion', 0, 0)"), {"t": "2026-11-23 08:00:00"})  # text: sqlite3 adapts no datetimes on 3.12+
        for handle in ("old.skype.name", None):
            connection.execute(text(
                "INSERT INTO contact_message (name, email, call_handle, message, lang, received_at)"
                " VALUES ('Old', 'old@example.org', :handle, 'hello', 'de', :t)"), {"handle": handle, "t": "2026-11-23 08:00:00"})
    upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT call_platform, call_handle FROM booking")).all() == [
            ("teams", "old.skype.name")]
        assert sorted(connection.execute(text("SELECT call_handle, call_platform FROM contact_message")).all(),
                      key=str) == sorted([("old.skype.name", "teams"), (None, None)], key=str)
    downgrade(revision="base")


@pytest.mark.parametrize("handle, parts", [
    ("erika.muster.lang@beispiel-praxis.example", ["erika", ".muster", ".lang", "@beispiel-praxis", ".example"]),
    ("+49 170 1234567", ["+49 ", "170 ", "1234567"]),
    ("live:per.s", ["live:per", ".s"]),
    ("erika", ["erika"]),
    ("", []),
])
def test_a_handle_wraps_only_between_its_parts(handle, parts):
    assert platforms.handle_parts(handle) == parts
    assert "".join(parts) == handle
