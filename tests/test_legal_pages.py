"""The pages a German and a Swedish client expect: legal notice, privacy notice, terms, the
withdrawal tick on the booking form and the payment-obliging button (PRODUCT.md §9)."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from reflexion.booking.models import Booking
from reflexion.pages.legal import plain_text_html
from reflexion.conversations.deadlines import starts_within_withdrawal_period, withdrawal_period_end

UTC = timezone.utc
BOOKED_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 MEZ
INSIDE = "2026-12-07T08:00:00Z"  # Monday 09:00 MEZ: the 14th day after booking
OUTSIDE = "2026-12-08T08:00:00Z"  # Tuesday 09:00 MEZ: the withdrawal period is over
FORM = {"name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika.muster@example.org", "accept_terms": "y"}

PRACTICE = {
    "OPERATOR_NAME": "Dr. Paula Beispiel",
    "BRAND": "Internet Reflexion®",
    "POSTAL_ADDRESS": "Lindenweg 7\n04109 Leipzig\nDeutschland",
    "CONTACT_EMAIL": "praxis@beispiel.example",
    "CONTACT_PHONE": "+49 341 555 0199",
    "VAT_ID": "DE312345678",
    "TAX_NUMBER": "231/123/45678",
}


@pytest.fixture
def practice(app_config):
    app_config.update(PRACTICE)
    return app_config


def _main(html: str) -> str:
    return html.split('<main', 1)[1].split("</main>", 1)[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")


@pytest.mark.parametrize("lang, heading", [("de", "Angaben gemäß § 5 DDG"), ("sv", "Uppgifter om tjänsteleverantören")])
def test_imprint_shows_the_practice_from_the_settings(practice, client, lang, heading):
    response = client.get(f"/{lang}/imprint")
    assert response.status_code == 200
    text = _text(_main(response.get_data(as_text=True)))
    assert heading in text
    for value in ("Dr. Paula Beispiel", "Internet Reflexion®", "Lindenweg 7", "04109 Leipzig", "Deutschland",
                  "praxis@beispiel.example", "+49 341 555 0199", "DE312345678"):
        assert value in text, value
    assert "231/123/45678" not in text  # with a VAT ID, the tax number stays private
    assert "MStV" in text and "VSBG" in text
    assert {"de": "20. Juli 2025", "sv": "20 juli 2025"}[lang] in text  # the ODR platform's end, no link to it
    assert "ec.europa.eu/consumers/odr" not in response.get_data(as_text=True)


def test_imprint_shows_the_tax_number_only_without_a_vat_id(practice, client, app):
    app.config["VAT_ID"] = ""
    text = _text(_main(client.get("/de/imprint").get_data(as_text=True)))
    assert "Steuernummer" in text and "231/123/45678" in text
    app.config["TAX_NUMBER"] = ""
    text = _text(_main(client.get("/de/imprint").get_data(as_text=True)))
    assert "Steuernummer" not in text and "Umsatzsteuer" not in text


def _public_urls(lang, ref):
    return [f"/{lang}/", f"/{lang}/video-calls", f"/{lang}/how-it-works", f"/{lang}/privacy", f"/{lang}/terms",
            f"/{lang}/contact", f"/{lang}/imprint", f"/{lang}/book", f"/{lang}/book/{OUTSIDE}",
            f"/{lang}/booking/{ref}", f"/{lang}/booking/{ref}/lost-key"]


@pytest.mark.parametrize("lang, label", [("de", "Impressum"), ("sv", "Företagsuppgifter")])
def test_every_public_page_links_the_imprint_in_its_footer(client, db, weekly_hours, frozen_now, make_booking,
                                                           lang, label):
    frozen_now(BOOKED_AT)
    booking = make_booking(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    for url in _public_urls(lang, booking.ref) + ["/operator/login"]:
        response = client.get(url)
        assert response.status_code == 200, url
        footer = response.get_data(as_text=True).split('<footer', 1)[1]
        link = re.search(r'<a href="([^"]+)" data-imprint-link>([^<]+)</a>', footer)
        assert link, url
        if url.startswith(f"/{lang}/"):
            assert link.groups() == (f"/{lang}/imprint", label), url


@pytest.mark.parametrize("lang, days, message_days, authority", [
    ("de", "123 Tage", "45 Tage", "Datenschutzaufsichtsbehörde Ihres Bundeslandes"),
    ("sv", "123 dagar", "45 dagar", "Integritetsskyddsmyndigheten"),
])
def test_privacy_notice_names_the_controller_and_the_real_retention(practice, app, client, lang, days,
                                                                    message_days, authority):
    app.config.update(RETENTION_DAYS=123, MESSAGE_RETENTION_DAYS=45)
    html = client.get(f"/{lang}/privacy").get_data(as_text=True)
    assert 'data-retention-days="123"' in html and 'data-message-retention-days="45"' in html
    text = _text(_main(html))
    assert days in text and message_days in text
    assert "180" not in text and " 90 " not in text  # not the defaults
    controller = _text(html.split("data-controller>", 1)[1].split("</p>", 1)[0])
    for value in ("Dr. Paula Beispiel", "Lindenweg 7", "04109 Leipzig", "praxis@beispiel.example"):
        assert value in controller
    assert authority in text and "IMY" in text
    for article in ("6.1 b" if lang == "sv" else "6 Abs. 1 lit. b", "15", "16", "17", "18", "20", "21", "77"):
        assert article in text
    assert 'id="no-email"' in html  # still: no personal data by e-mail (§2.12)
    assert "data-payment-provider" not in html  # no online payment provider connected


def test_privacy_notice_names_a_connected_payment_provider(app, client):
    app.config["STRIPE_SECRET_KEY"] = "sk_test_x"  # online payment needs both secrets (issue #13)
    app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_test_x"
    html = client.get("/de/privacy").get_data(as_text=True)
    assert "data-payment-provider>Stripe, unser Zahlungsdienstleister" in html


@pytest.mark.parametrize("lang, expected", [
    ("de", ["bis 48 Stunden vor dem gebuchten Beginn", "bis zu 3-mal", "erstatten wir 80 % der Gebühr",
            "Stornieren Sie später, erstatten wir 20 % der Gebühr", "immer die volle Gebühr",
            "Widerrufsrecht", "binnen vierzehn Tagen", "Muster-Widerrufsformular", "Unzutreffendes streichen",
            "72 Stunden nach der Buchung", "§ 356 Abs. 4 BGB"]),
    ("sv", ["fram till 48 timmar före den bokade starten", "upp till 3 gånger", "tillbaka 80 % av avgiften",
            "Om du avbokar senare betalar vi tillbaka 20 % av avgiften", "alltid tillbaka hela avgiften",
            "Ångerrätt", "inom 14 dagar", "Standardformulär för utövande av ångerrätt", "Stryk det som inte gäller",
            "72 timmar efter bokningen", "distansavtalslagen"]),
])
def test_terms_state_the_change_and_refund_policy_from_the_settings(practice, app, client, lang, expected):
    app.config.update(CHANGE_CUTOFF_HOURS=48.0, MAX_RESCHEDULES=3, REFUND_PERCENT_BEFORE_CUTOFF=80,
                      REFUND_PERCENT_AFTER_CUTOFF=20, PAYMENT_WINDOW_HOURS=72.0)
    html = client.get(f"/{lang}/terms").get_data(as_text=True)
    text = _text(_main(html))
    for phrase in expected:
        assert phrase in text, phrase
    form = _text(html.split("data-model-withdrawal-form>", 1)[1].split("</section>", 1)[0])
    assert "Dr. Paula Beispiel, Lindenweg 7, 04109 Leipzig, Deutschland" in form
    assert "praxis@beispiel.example" in form


def test_terms_say_full_refund_and_none_in_plain_words(app, client):
    app.config.update(REFUND_PERCENT_BEFORE_CUTOFF=100, REFUND_PERCENT_AFTER_CUTOFF=0, MAX_RESCHEDULES=1)
    text = _text(_main(client.get("/de/terms").get_data(as_text=True)))
    assert "erstatten wir die volle Gebühr" in text
    assert "Stornieren Sie später, wird die Gebühr nicht erstattet" in text
    assert "einmal verschoben" in text
    assert "100 %" not in text and "0 %" not in text


def test_operator_text_replaces_a_legal_page_escaped_and_in_its_language_only(app, client):
    app.config["TERMS_TEXT_DE"] = ("# Unsere Bedingungen\nGilt ab heute.\nZweite Zeile.\n\n"
                                   "- erstens\n- zweitens\n\n<script>alert(1)</script> <b>fett</b>")
    html = _main(client.get("/de/terms").get_data(as_text=True))
    own = html.split("data-own-text>", 1)[1].split("</div>", 1)[0]
    assert "<h2>Unsere Bedingungen</h2>" in own
    assert "<p>Gilt ab heute.<br>\nZweite Zeile.</p>" in own
    assert "<ul><li>erstens</li><li>zweitens</li></ul>" in own
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;fett&lt;/b&gt;" in own
    assert "<script>" not in html and 'id="withdrawal"' not in html
    assert 'id="withdrawal"' in client.get("/sv/terms").get_data(as_text=True)  # Swedish: still the built-in text


@pytest.mark.parametrize("page", ["imprint", "privacy"])
def test_operator_text_for_imprint_and_privacy(app, client, page):
    app.config[f"{page.upper()}_TEXT_SV"] = "Vår egen text & mer"
    html = client.get(f"/sv/{page}").get_data(as_text=True)
    assert "<p>Vår egen text &amp; mer</p>" in html
    assert "data-own-text" not in client.get(f"/de/{page}").get_data(as_text=True)


def test_plain_text_knows_numbered_lists_and_keeps_nothing_raw():
    html = str(plain_text_html("1. eins\n2. zwei\n\n\n<i>x</i>\r\nnext"))
    assert html == "<ol><li>eins</li><li>zwei</li></ol>\n<p>&lt;i&gt;x&lt;/i&gt;<br>\nnext</p>"


def test_withdrawal_period_ends_with_the_fourteenth_day_after_booking(app):
    assert withdrawal_period_end(BOOKED_AT) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 8 Dec 00:00 MEZ
    # Across the spring change: booked on 20 March, the period ends 4 April 00:00 MESZ
    assert withdrawal_period_end(datetime(2026, 3, 20, 22, 30, tzinfo=UTC)) == datetime(2026, 4, 3, 22, 0, tzinfo=UTC)
    assert starts_within_withdrawal_period(datetime(2026, 12, 7, 22, 59, tzinfo=UTC), BOOKED_AT)
    assert not starts_within_withdrawal_period(datetime(2026, 12, 7, 23, 0, tzinfo=UTC), BOOKED_AT)


def _bookings(db):
    return db.session.scalar(select(func.count()).select_from(Booking))


@pytest.mark.parametrize("lang, message", [
    ("de", "Dieser Termin liegt innerhalb der 14-tägigen Widerrufsfrist."),
    ("sv", "Samtalet äger rum inom ångerfristen på 14 dagar."),
])
def test_a_session_inside_the_withdrawal_period_needs_the_express_request(client, db, weekly_hours, frozen_now,
                                                                           lang, message):
    frozen_now(BOOKED_AT)
    assert 'id="early_start"' in client.get(f"/{lang}/book/{INSIDE}").get_data(as_text=True)
    response = client.post(f"/{lang}/book/{INSIDE}", data=FORM)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'id="early_start"' in html
    assert _bookings(db) == 0
    response = client.post(f"/{lang}/book/{INSIDE}", data={**FORM, "early_start": "y"})
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert booking.early_start_requested_at == BOOKED_AT


def test_a_session_after_the_withdrawal_period_asks_nothing_extra(client, db, weekly_hours, frozen_now):
    frozen_now(BOOKED_AT)
    html = client.get(f"/de/book/{OUTSIDE}").get_data(as_text=True)
    assert 'id="early_start"' not in html
    assert client.post(f"/de/book/{OUTSIDE}", data=FORM).status_code == 303
    booking = db.session.scalar(select(Booking))
    assert booking.early_start_requested_at is None


@pytest.mark.parametrize("lang, label", [("de", "Zahlungspflichtig buchen"), ("sv", "Boka och betala")])
def test_the_booking_button_states_the_obligation_to_pay(client, db, weekly_hours, frozen_now, lang, label):
    frozen_now(BOOKED_AT)
    html = client.get(f"/{lang}/book/{OUTSIDE}").get_data(as_text=True)
    assert re.search(rf'<button class="button" type="submit" data-book-button>{label}</button>', html)
