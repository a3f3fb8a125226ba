"""Public information pages, the language routing and the contact form."""
import re

import pytest
from sqlalchemy import func, select

from reflexion.pages.models import ContactMessage

PAGES = ["", "video-calls", "how-it-works", "privacy", "terms", "contact"]


def _count(db):
    return db.session.scalar(select(func.count()).select_from(ContactMessage))


def _valid(**overrides):
    data = {"name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika.muster@example.org",
            "message": "Ich hätte gern einen Termin am Abend.\nGeht das?"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("lang", ["de", "sv"])
@pytest.mark.parametrize("page", PAGES)
def test_every_public_page_answers_in_its_language(client, lang, page):
    """Each page returns 200 with <html lang> set to the URL's language and a real heading."""
    response = client.get(f"/{lang}/{page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert "<h1" in html
    assert 'style="' not in html and "<script>" not in html  # CSP: no inline styles or scripts
    assert '="None"' not in html  # no empty attributes leaking from the form macros


@pytest.fixture
def teams_config(app_config):
    app_config["PLATFORMS"] = "teams=kontakt@example.org,whatsapp=+49 151 23456789"
    return app_config


@pytest.mark.parametrize("page", ["", "video-calls", "how-it-works", "contact"])
def test_pages_name_the_configured_call_platform(teams_config, client, page):
    """The platforms named are the ones the settings offer, not one written into the template."""
    html = client.get(f"/de/{page}").get_data(as_text=True)
    assert "Microsoft Teams oder WhatsApp" in html or ("Microsoft Teams" in html and "WhatsApp" in html)
    assert "Skype" not in html


@pytest.mark.parametrize("page", ["terms", "privacy", "imprint"])
def test_legal_pages_name_no_platform(teams_config, client, page):
    """The legal texts speak of the platform the client booked, whichever it is."""
    html = client.get(f"/de/{page}").get_data(as_text=True)
    assert "gebuchten Videotelefonie-Plattform" in html or page == "imprint"
    assert "Teams Video" not in html and "Skype" not in html


@pytest.fixture
def other_rules(app_config):
    app_config.update({"NO_ANSWER_MINUTES": 20.0, "SESSION_MINUTES": 50.0, "FEE_AMOUNT": "75.00",
                       "TERMS_VERSION": "2030-01"})
    return app_config


def test_terms_quote_the_rules_the_system_enforces(other_rules, client):
    """The terms state the configured no-answer and session limits, the fee and the terms version."""
    html = client.get("/de/terms").get_data(as_text=True)
    no_answer = html.split('id="no-answer"')[1].split("</li>")[0]
    hard_end = html.split('id="end"')[1].split("</li>")[0]
    assert "20" in no_answer and "15" not in no_answer
    assert "50" in hard_end and "45" not in hard_end
    assert "2030-01" in html
    assert "75,00" in html


def test_requirements_page_lists_what_the_client_needs(client):
    """Video-calls page: we call (no calling in), camera, microphone not hiding lips, bandwidth, light, test."""
    html = client.get("/de/video-calls").get_data(as_text=True)
    assert 'class="checklist"' in html
    assert len(re.findall(r"<li>", html.split('class="checklist"')[1].split("</ul>")[0])) >= 6
    assert 'href="/de/how-it-works#two-kinds"' in html
    assert 'href="mailto:kontakt@internet-reflexion.example"' in html


def test_home_offers_booking_fee_and_three_steps(client):
    """The home page shows the fee, a primary link to the calendar and the three steps."""
    html = client.get("/sv/").get_data(as_text=True)
    assert re.search(r'class="button large" href="/sv/book"', html)
    assert "90,00" in html and "€" in html
    steps = html.split('class="steps"')[1].split("</ol>")[0]
    assert steps.count("<li>") == 3
    assert 'href="/sv/video-calls"' in html and 'href="/sv/terms"' in html


@pytest.mark.parametrize("accept, target", [
    ("sv-SE,sv;q=0.9,en;q=0.5", "/sv/"),
    ("sv", "/sv/"),
    ("de-DE,de;q=0.9", "/de/"),
    ("en-GB,en;q=0.9", "/de/"),
    ("fr", "/de/"),
    (None, "/de/"),
])
def test_root_redirects_by_accept_language(client, accept, target):
    """`/` sends Swedish browsers to /sv/ and everyone else to /de/."""
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/", headers=headers)
    assert response.status_code in (301, 302, 303, 307, 308)
    assert response.headers["Location"].endswith(target)


def test_language_switch_keeps_the_page(client):
    """On /de/video-calls the switcher links to /sv/video-calls (and marks German as current)."""
    html = client.get("/de/video-calls").get_data(as_text=True)
    switch = html.split('class="lang-switch"')[1].split("</nav>")[0]
    assert 'href="/sv/video-calls"' in switch
    assert 'aria-current="true" lang="de"' in switch
    back = client.get("/sv/video-calls").get_data(as_text=True).split('class="lang-switch"')[1]
    assert 'href="/de/video-calls"' in back.split("</nav>")[0]


@pytest.mark.parametrize("path", ["/en/", "/en/video-calls", "/xx/terms"])
def test_unknown_language_is_not_found(client, path):
    """Only /de/ and /sv/ exist; any other language prefix is a 404, not a silent fallback."""
    assert client.get(path).status_code == 404


def test_contact_message_is_stored_and_redirects(client, db, frozen_now):
    """A valid message is stored (with language and time) and the visitor is sent to a thank-you view."""
    now = frozen_now()
    response = client.post("/sv/contact", data=_valid())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/sv/contact?sent=1")
    entry = db.session.scalars(select(ContactMessage)).one()
    assert (entry.name, entry.email, entry.call_handle, entry.call_platform, entry.lang) == (
        "Erika Muster", "erika@example.org", "erika.muster@example.org", "teams", "sv")
    assert entry.message.startswith("Ich hätte gern") and entry.received_at == now
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="status"' in thanks


def test_contact_message_without_call_handle_is_fine(client, db):
    """The call handle is optional at first contact; an empty one is stored as NULL."""
    assert client.post("/de/contact", data=_valid(call_handle="")).status_code == 303
    assert db.session.scalars(select(ContactMessage)).one().call_handle is None


@pytest.mark.parametrize("overrides, field", [
    ({"name": ""}, "name"),
    ({"email": ""}, "email"),
    ({"message": "   "}, "message"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "erika@example.org\nBcc: x@example.org"}, "email"),
    ({"call_handle": "erika muster!"}, "call_handle"),
    ({"call_handle": "<script>"}, "call_handle"),
    ({"message": "x" * 5000}, "message"),
    ({"message": "Hallo\x00Welt"}, "message"),
    ({"name": "Erika\x1b[31m"}, "name"),
    ({"message": "Hallo\u202eWelt"}, "message"),
])
def test_bad_contact_input_is_refused_and_nothing_stored(client, db, overrides, field):
    """Bad input gives 400, the form again with the error next to the field, and no stored message."""
    response = client.post("/de/contact", data=_valid(**overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert f'href="#{field}"' in html  # the error summary links to the field
    assert 'aria-invalid="true"' in html
    assert _count(db) == 0


def test_contact_form_keeps_input_after_an_error(client):
    """After an error the visitor does not have to type everything again."""
    html = client.post("/de/contact", data=_valid(email="nope")).get_data(as_text=True)
    assert 'value="Erika Muster"' in html


@pytest.fixture
def csrf_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_contact_post_without_csrf_token_is_refused(csrf_config, client, db):
    """With CSRF protection on, a post without token gets 400 and stores nothing."""
    response = client.post("/de/contact", data=_valid())
    assert response.status_code == 400
    assert _count(db) == 0


def test_contact_post_with_csrf_token_is_accepted(csrf_config, client, db):
    """With CSRF protection on, the token from the page makes the post go through."""
    html = client.get("/de/contact").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post("/de/contact", data=_valid(csrf_token=token)).status_code == 303
    assert _count(db) == 1


def test_static_assets_are_local(client):
    """Logo, favicon and illustration are served from our own static folder."""
    html = client.get("/de/").get_data(as_text=True)
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        response = client.get(src)
        assert response.status_code == 200
        response.close()
    assert "https://" not in re.sub(r'https://[^"]*\.example', "", html.split("<body")[0])


@pytest.fixture
def operator_notice(app_config):
    app_config["MAIL_OPERATOR_NOTICE"] = "praxis@example.org"
    return app_config


def test_contact_message_is_never_e_mailed(operator_notice, client, db):
    """The operator gets at most one content-free notice; nothing goes to anyone else."""
    from reflexion.mail.messages import build
    from reflexion.mail.models import OutgoingEmail

    secret = "Mein Anliegen ist vertraulich 4711"
    for _ in range(2):
        assert client.post("/de/contact", data=_valid(message=secret)).status_code == 303
    emails = db.session.scalars(select(OutgoingEmail)).all()
    assert len(emails) == 1 and emails[0].recipient == "praxis@example.org"
    with client.application.test_request_context():
        notice = build(emails[0])
    parts = [part.get_content() for part in notice.walk() if not part.is_multipart()]
    text = str(notice["Subject"]) + "\n".join(str(p) for p in parts)
    assert text.strip()
    for private in (secret, "Erika Muster", "erika@example.org", "erika.muster@example.org"):
        assert private not in text
