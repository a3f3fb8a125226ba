"""A client books in German, the operator imports the bank statement in the panel, the client's
booking page then shows the confirmation data (system Chromium, headless, under the CSP).

Screenshots go to /tmp/shots/ (import-*.png).
"""
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


@pytest.fixture(autouse=True)
def monday_morning(weekly_hours, frozen_now):
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))  # Monday 09:00 MEZ


def _statement(text: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
 <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-24T06:00:00+01:00</CreDtTm></GrpHdr>
 <Stmt><Id>S1</Id><CreDtTm>2026-11-24T06:00:00+01:00</CreDtTm>
  <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
  <Ntry><Amt Ccy="EUR">90.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
   <BookgDt><Dt>2026-11-23</Dt></BookgDt><ValDt><Dt>2026-11-23</Dt></ValDt><AcctSvcrRef>2026112300000815</AcctSvcrRef>
   <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><Amt Ccy="EUR">90.00</Amt>
    <RltdPties><Dbtr><Pty><Nm>Erika Mustermann</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct></RltdPties>
    <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
  <Ntry><Amt Ccy="EUR">45.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
   <BookgDt><Dt>2026-11-23</Dt></BookgDt><AcctSvcrRef>2026112300000816</AcctSvcrRef>
   <NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>Jonas Becker</Nm></Pty></Dbtr></RltdPties>
    <RmtInf><Ustrd>Anzahlung Gespräch</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
 </Stmt></BkToCstmrStmt></Document>""".encode()


@pytest.fixture(scope="module")
def axe_source():
    import provision

    try:
        return provision.ensure_axe().read_text()
    except provision.Missing as problem:
        pytest.fail(str(problem))


def test_an_imported_statement_confirms_the_payment_and_the_client_sees_the_confirmation_data(
        app, db, live_server, browser, tmp_path, axe_source, log_in_operator):
    from test_browser_accessibility import RUN_AXE

    SHOTS.mkdir(parents=True, exist_ok=True)
    errors = []

    client = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")
    client.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    client.goto(f"{live_server}/de/book")
    client.locator("[data-slot] a, a[data-slot]").first.click()
    client.fill("#name", "Erika Mustermann")
    client.fill("#email", "erika@example.org")
    client.fill("#call_handle", "erika.mustermann@example.org")
    client.check("#accept_terms")
    if client.locator("#early_start").count():  # a session inside the withdrawal period
        client.check("#early_start")
    client.click("button[type=submit]")
    client.wait_for_selector("[data-access-key]")
    ref = client.locator("[data-booking-ref]").inner_text().strip()
    key = client.locator("[data-access-key]").inner_text().strip()

    statement = tmp_path / "umsaetze.xml"
    # as a client types it into a banking app: lower case, no dash, other words around it
    statement.write_bytes(_statement(f"Internet Reflexion {ref.lower().replace('-', ' ')} Danke"))
    operator = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")
    operator.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in_operator(operator)
    operator.goto(f"{live_server}/operator/payments/import")
    operator.screenshot(path=str(SHOTS / "import-upload-1280.png"), full_page=True)
    operator.set_input_files("#statement", str(statement))
    operator.click("form[enctype] button[type=submit]")
    operator.wait_for_selector(f'[data-matched="{ref}"]')
    assert "Kontoauszug importiert" in operator.content()
    assert operator.locator('[data-outcome="partial"], [data-outcome="no_reference"]').count() == 1
    operator.screenshot(path=str(SHOTS / "import-result-1280.png"), full_page=True)
    operator.evaluate(axe_source)  # through DevTools, so the page's CSP stays as it is
    assert operator.evaluate(RUN_AXE) == []
    operator.set_viewport_size({"width": 375, "height": 800})
    operator.screenshot(path=str(SHOTS / "import-result-375.png"), full_page=True)

    client.goto(f"{live_server}/de/booking/{ref}")
    if client.locator("#access_key").count():
        client.fill("#access_key", key)
        client.click("button[type=submit]")
    client.wait_for_selector('[data-booking-state="confirmed"]')
    code = client.locator("[data-confirmation-code]").inner_text().strip()
    assert len(code.replace(" ", "")) == 8 and code.replace(" ", "").isdigit()
    assert "Ihre Bestätigungsdaten" in client.content()
    client.screenshot(path=str(SHOTS / "import-client-confirmed-1280.png"), full_page=True)
    client.set_viewport_size({"width": 375, "height": 800})
    client.screenshot(path=str(SHOTS / "import-client-confirmed-375.png"), full_page=True)
    assert not errors, errors
