"""Bank-statement import: camt.053 (.001.02, .001.08) and MT940 matched to bookings awaiting payment.

Fixture files in tests/statements/ are written in the style of German and Swedish banks'
exports (single and batch entries, structured and unstructured remittance, debits, reversals,
pending entries, two accounts and currencies in one file).
"""
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from reflexion.booking.models import Booking, Payment, Transition
from reflexion.mail.models import OutgoingEmail
from reflexion.payments.matching import candidate_references
from reflexion.payments.models import StatementEntry, StatementEntryAction, StatementImport
from reflexion.payments.operations import import_statement, resolve_entry, EntryActionError
from reflexion.payments.statements import StatementError, read_statement

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
FILES = Path(__file__).parent / "statements"
CAMT_02 = (FILES / "sparkasse_camt053_001_02.xml").read_bytes()
CAMT_08 = (FILES / "seb_camt053_001_08.xml").read_bytes()
MT940 = (FILES / "sparkasse_2026-11-24.sta").read_bytes()


@pytest.fixture
def booking(db, make_booking, frozen_now):
    """make a booking with a given reference (and state), awaiting payment of 90,00 EUR by default."""
    frozen_now(NOW)
    count = {"n": 0}

    def make(ref, state="awaiting_payment", name="Erika Muster", **kw):
        count["n"] += 1
        made = make_booking(START + timedelta(hours=2 * count["n"]), state=state, name=name, **kw)
        made.ref = ref
        db.session.commit()
        return made

    return make


def camt(*entries, version="08", account="DE02120300000000202051"):
    """A small camt.053 document; each entry: dict(amount, ccy, text, ref, cd, e2e)."""
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version >= "08" else "<Sts>BOOK</Sts>"
    body = "".join(f"""
      <Ntry><Amt Ccy="{e.get('ccy', 'EUR')}">{e['amount']}</Amt><CdtDbtInd>{e.get('cd', 'CRDT')}</CdtDbtInd>{status}
        <BookgDt><Dt>{e.get('day', '2026-11-24')}</Dt></BookgDt><ValDt><Dt>{e.get('day', '2026-11-24')}</Dt></ValDt>
        {f"<AcctSvcrRef>{e['ref']}</AcctSvcrRef>" if e.get('ref') else ''}
        <NtryDtls><TxDtls><Refs><EndToEndId>{e.get('e2e', 'NOTPROVIDED')}</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>{e.get('name', 'Erika Muster')}</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>{e.get('text', '')}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>""" for e in entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"><BkToCstmrStmt>
  <GrpHdr><MsgId>T1</MsgId><CreDtTm>2026-11-25T06:00:00+01:00</CreDtTm></GrpHdr>
  <Stmt><Id>S1</Id><CreDtTm>2026-11-25T06:00:00+01:00</CreDtTm><Acct><Id><IBAN>{account}</IBAN></Id></Acct>
  {body}
  </Stmt></BkToCstmrStmt></Document>""".encode()


def _outcomes(result):
    return [(r.outcome, r.booking.ref if r.booking else None) for r in result.lines]


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- references ------------------------------------------------------------------------------

@pytest.mark.parametrize("texts", [
    ["R-7KQ4M2"], ["r7kq4m2"], ["R 7KQ4M2"], ["Ref R-7KQ4M2 Danke"], ["R–7KQ4M2"], ["R_7KQ4M2"], ["r - 7kq4m2"],
    ["Buchung R.7KQ4M2, Sitzung 26.11."], ["ReferenzR7KQ4M2"], ["Sitzung Ref R-7K", "Q4M2 Danke"],
    ["Internet Reflexion R-7KQ 4M2"], ["ＲＥＦ Ｒ-７ＫＱ４Ｍ２"],
])
def test_the_reference_is_found_however_the_client_typed_it(texts):
    assert "R-7KQ4M2" in candidate_references(texts)


@pytest.mark.parametrize("text", ["", "Miete Dezember", "Rechnung 2026-11", "RE 4711 vom 24.11.", "R-7KQ4M"])
def test_texts_without_a_reference_give_no_candidate_that_exists(text):
    assert "R-7KQ4M2" not in candidate_references([text])


# --- camt.053.001.02 (German bank) -----------------------------------------------------------

def test_camt_001_02_confirms_exact_and_fuzzy_matches_and_lists_the_rest(app, db, booking):
    erika, jonas, lena = booking("R-7KQ4M2"), booking("R-3HX9PD"), booking("R-9FKD3S")
    sabine = booking("R-WN5T8C", name="Sabine Koch")
    thomas = booking("R-Q2J7VA", name="Thomas Wagner")
    result = import_statement(CAMT_02, filename="sparkasse.xml", actor="op@example.com")
    db.session.commit()
    assert result.statement.format == "camt.053.001.02"
    assert _outcomes(result) == [
        ("matched", "R-7KQ4M2"),  # the reference alone
        ("matched", "R-3HX9PD"),  # "Ref r3hx" / "9pd Jonas": lower case, no dash, split over two lines
        ("matched", "R-9FKD3S"),  # batch entry, transaction 1: "R 9FKD3S Lena Schmitt"
        ("partial", "R-WN5T8C"),  # batch entry, transaction 2: 45,00 of 90,00
        ("no_reference", "R-Q2J7VA"),  # batch entry, transaction 3: no reference; suggested by name and amount
        ("skipped", None),  # the direct debit (its text names R-7KQ4M2: still not money received)
        ("skipped", None),  # pending
    ]
    for paid in (erika, jonas, lena):
        db.session.refresh(paid)
        assert paid.state == "confirmed"
    (payment,) = erika.payments
    assert (payment.method, payment.amount_cents, payment.currency, payment.provider_reference, payment.booked_on) == (
        "bank_transfer", 9000, "EUR", "2026112400004711", date(2026, 11, 24))
    assert lena.payments[0].provider_reference == "2026112400004713-1"
    assert sabine.state == thomas.state == "awaiting_payment"
    record = db.session.get(StatementImport, result.record.id)
    assert (record.matched, record.needs_attention, record.already_imported, record.skipped) == (3, 2, 0, 2)
    assert [r.reason for r in result.lines if r.outcome == "skipped"] == ["debit", "pending"]


def test_a_match_sends_the_confirmation_email_through_confirm_payment(app, db, booking):
    erika = booking("R-7KQ4M2")
    import_statement(CAMT_02, actor="cli")
    db.session.commit()
    emails = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.booking_id == erika.id)).all()
    assert [e.kind for e in emails] == ["booking_confirmed"]
    last = db.session.scalars(select(Transition).where(Transition.booking_id == erika.id)
                              .order_by(Transition.id.desc())).first()
    assert (last.from_state, last.to_state, last.actor) == ("awaiting_payment", "confirmed", "operator")
    assert erika.confirmation_hash and erika.ical_sequence == 1


# --- camt.053.001.08 (Swedish bank, two accounts) --------------------------------------------

def test_camt_001_08_structured_reference_changed_dash_reversal_and_other_currency(app, db, booking):
    anna, _, maja = booking("R-M4ZB6E"), booking("R-Q2J7VA"), booking("R-9FKD3S")
    result = import_statement(CAMT_08, actor="cli")
    db.session.commit()
    assert result.statement.format == "camt.053.001.08"
    assert result.statement.accounts == ["SE4550000000058398257466", "SE8650000000058398257474"]
    assert _outcomes(result) == [("matched", "R-M4ZB6E"), ("matched", "R-Q2J7VA"), ("skipped", None),
                                 ("wrong_currency", "R-9FKD3S")]
    assert result.lines[2].reason == "reversal"
    assert maja.state == "awaiting_payment" and anna.payments[0].booked_on == date(2026, 11, 25)


# --- MT940 -----------------------------------------------------------------------------------

def test_mt940_with_german_structured_purpose(app, db, booking):
    booking("R-7KQ4M2"), booking("R-3HX9PD"), booking("R-WN5T8C")
    result = import_statement(MT940, actor="cli")
    db.session.commit()
    assert result.statement.format == "mt940"
    assert _outcomes(result) == [("matched", "R-7KQ4M2"), ("matched", "R-3HX9PD"), ("partial", "R-WN5T8C"),
                                 ("skipped", None)]
    first = result.lines[0].entry
    assert (first.debtor_name, first.debtor_iban, first.entry_ref) == (
        "Erika Mustermann", "DE89370400440532013000", "2026112400004711")


# --- partial, over, duplicate, expired, cancelled ----------------------------------------------

def test_over_duplicate_expired_and_cancelled_payments_need_attention(app, db, booking):
    booking("R-7KQ4M2"), booking("R-3HX9PD"), booking("R-WN5T8C", state="expired")
    booking("R-9FKD3S", state="cancelled"), booking("R-M4ZB6E", state="confirmed")
    result = import_statement(camt(
        {"amount": "100.00", "text": "R-7KQ4M2", "ref": "A1"},
        {"amount": "90.00", "text": "R-3HX9PD", "ref": "A2"},
        {"amount": "90.00", "text": "R-3HX9PD nochmal", "ref": "A3"},  # paid twice
        {"amount": "90.00", "text": "R-WN5T8C", "ref": "A4"},
        {"amount": "90.00", "text": "R-9FKD3S", "ref": "A5"},
        {"amount": "90.00", "text": "R-M4ZB6E", "ref": "A6"},
        {"amount": "90.00", "text": "R-ZZZZZZ", "ref": "A7", "name": "Nobody Known"},
        {"amount": "90.00", "text": "R-7KQ4M3", "ref": "A8", "name": "X"},  # one typo: suggests R-7KQ4M2
    ), actor="cli")
    db.session.commit()
    assert _outcomes(result) == [
        ("overpaid", "R-7KQ4M2"), ("matched", "R-3HX9PD"), ("duplicate", "R-3HX9PD"), ("expired", "R-WN5T8C"),
        ("cancelled", "R-9FKD3S"), ("duplicate", "R-M4ZB6E"), ("unknown_reference", None),
        ("unknown_reference", "R-7KQ4M2")]
    assert _count(db, Payment) == 1


# --- re-import, overlap ----------------------------------------------------------------------

def test_importing_the_same_file_again_confirms_nothing_twice(app, db, booking):
    booking("R-7KQ4M2"), booking("R-3HX9PD"), booking("R-9FKD3S")
    import_statement(CAMT_02, actor="cli")
    db.session.commit()
    payments, transitions, entries = _count(db, Payment), _count(db, Transition), _count(db, StatementEntry)
    again = import_statement(CAMT_02, actor="cli")
    db.session.commit()
    assert {r.outcome for r in again.lines} == {"already_imported", "skipped"}
    assert (again.record.matched, again.record.already_imported) == (0, 5)
    assert (_count(db, Payment), _count(db, Transition), _count(db, StatementEntry)) == (payments, transitions, entries)


def test_an_overlapping_statement_imports_only_its_new_entries(app, db, booking):
    booking("R-7KQ4M2"), booking("R-3HX9PD")
    import_statement(camt({"amount": "90.00", "text": "R-7KQ4M2", "ref": "B1", "day": "2026-11-24"}), actor="cli")
    db.session.commit()
    later = import_statement(camt({"amount": "90.00", "text": "R-7KQ4M2", "ref": "B1", "day": "2026-11-24"},
                                  {"amount": "90.00", "text": "R-3HX9PD", "ref": "B2", "day": "2026-11-25"}),
                             actor="cli")
    db.session.commit()
    assert _outcomes(later) == [("already_imported", None), ("matched", "R-3HX9PD")]
    assert _count(db, Payment) == 2


def test_without_bank_references_two_equal_transfers_stay_two_and_reimport_stays_idempotent(app, db, booking):
    booking("R-7KQ4M2")
    twice = camt({"amount": "90.00", "text": "R-7KQ4M2"}, {"amount": "90.00", "text": "R-7KQ4M2"})
    first = import_statement(twice, actor="cli")
    db.session.commit()
    assert [r.outcome for r in first.lines] == ["matched", "duplicate"]
    again = import_statement(twice, actor="cli")
    db.session.commit()
    assert [r.outcome for r in again.lines] == ["already_imported", "already_imported"]


# --- broken files: a clear message, nothing applied ------------------------------------------

BAD_FILES = {
    "truncated camt": (CAMT_02[: len(CAMT_02) // 2], "truncated"),
    "truncated MT940": (MT940[: MT940.index(b":62F:")], "truncated"),
    "CSV": ("Buchungstag;Betrag;Verwendungszweck\n24.11.2026;90,00;R-7KQ4M2\n".encode(), "not_a_statement"),
    "PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not_a_statement"),
    "HTML": (b"<!doctype html><html><body>Kontoauszug</body></html>", "not_a_statement"),
    "empty": (b"  \n", "empty"),
    "pain.001": (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>',
                 "unknown_format"),
    "camt.052": (CAMT_08.replace(b"camt.053.001.08", b"camt.052.001.08"), "unknown_format"),
    "XXE": (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>', "not_a_statement"),
    "bad amount": (CAMT_02.replace(b"<Amt Ccy=\"EUR\">90.00</Amt>", b"<Amt Ccy=\"EUR\">neunzig</Amt>", 1), "broken"),
    "damaged batch": (CAMT_02.replace(b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>BOOK", b"<Sts>BOOK", 1), "broken"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_refused_with_a_message_and_nothing_is_applied(app, db, booking, name):
    erika = booking("R-7KQ4M2")
    data, kind = BAD_FILES[name]
    with pytest.raises(StatementError) as caught:
        import_statement(data, actor="cli")
    db.session.rollback()
    assert caught.value.kind == kind
    with force_locale("de"):
        german = str(caught.value.message)
    with force_locale("sv"):
        swedish = str(caught.value.message)
    assert german != swedish and len(german) > 10 and len(swedish) > 10
    db.session.refresh(erika)
    assert erika.state == "awaiting_payment"
    assert _count(db, StatementImport) == _count(db, StatementEntry) == _count(db, Payment) == 0


def test_the_messages_read_well_in_both_languages(app):
    with pytest.raises(StatementError) as caught:
        read_statement(BAD_FILES["truncated camt"][0])
    with force_locale("de"):
        assert "unvollständig" in str(caught.value.message)
    with force_locale("sv"):
        assert "ofullständigt" in str(caught.value.message)


def test_an_import_is_all_or_nothing(app, db, booking, monkeypatch):
    """A failure after some bookings were confirmed (here: the third confirmation) leaves none confirmed."""
    booking("R-7KQ4M2"), booking("R-3HX9PD"), booking("R-9FKD3S")
    from reflexion.payments import operations

    real, calls = operations.confirm_payment, []

    def failing(b, **kw):
        calls.append(b.ref)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(b, **kw)

    monkeypatch.setattr(operations, "confirm_payment", failing)
    runner = app.test_cli_runner()
    path = FILES / "sparkasse_camt053_001_02.xml"
    outcome = runner.invoke(args=["payments", "import", str(path)])
    assert outcome.exit_code != 0 and len(calls) == 3
    db.session.expire_all()
    assert db.session.scalars(select(Booking.state)).all() == ["awaiting_payment"] * 3
    assert _count(db, StatementEntry) == _count(db, Payment) == _count(db, StatementImport) == 0


# --- the operator's actions ------------------------------------------------------------------

def test_confirm_anyway_refund_due_and_ignore_are_audited(app, db, booking):
    sabine = booking("R-WN5T8C", name="Sabine Koch")
    booking("R-9FKD3S", state="cancelled")
    result = import_statement(camt({"amount": "45.00", "text": "R-WN5T8C", "ref": "C1"},
                                   {"amount": "90.00", "text": "R-9FKD3S", "ref": "C2"},
                                   {"amount": "20.00", "text": "Spende", "ref": "C3"}), actor="cli")
    db.session.commit()
    partial, cancelled, other = (r.entry for r in result.lines)
    resolve_entry(partial, "confirm", actor="op@example.com", note="Rest bar bezahlt")
    resolve_entry(cancelled, "refund_due", actor="op@example.com")
    resolve_entry(other, "ignore", actor="op@example.com")
    db.session.commit()
    db.session.refresh(sabine)
    assert sabine.state == "confirmed" and sabine.payments[0].amount_cents == 4500
    assert (partial.resolution, cancelled.resolution, other.resolution) == ("confirmed", "refund_due", "ignored")
    assert cancelled.refund_cents == 9000
    actions = db.session.scalars(select(StatementEntryAction).order_by(StatementEntryAction.id)).all()
    assert [(a.action, a.actor) for a in actions] == [("confirmed", "op@example.com"), ("refund_due", "op@example.com"),
                                                      ("ignored", "op@example.com")]
    assert "Rest bar bezahlt" in actions[0].note
    with pytest.raises(EntryActionError):
        resolve_entry(other, "confirm", actor="op@example.com", ref="R-WN5T8C")


def test_confirm_anyway_refuses_a_booking_that_is_not_awaiting_payment(app, db, booking):
    booking("R-WN5T8C", state="expired")
    (line,) = import_statement(camt({"amount": "90.00", "text": "R-WN5T8C", "ref": "D1"}), actor="cli").lines
    with pytest.raises(EntryActionError) as caught:
        resolve_entry(line.entry, "confirm", actor="op@example.com")
    with force_locale("de"):
        assert "R-WN5T8C" in str(caught.value.message)
    assert line.entry.resolution is None


def test_an_overpayment_confirmed_anyway_marks_the_excess_for_refund(app, db, booking):
    booking("R-7KQ4M2")
    (line,) = import_statement(camt({"amount": "120.00", "text": "R-7KQ4M2", "ref": "E1"}), actor="cli").lines
    resolve_entry(line.entry, "confirm", actor="op@example.com")
    assert line.entry.refund_cents == 3000 and line.entry.booking.state == "confirmed"


# --- CLI -------------------------------------------------------------------------------------

def test_cli_json_gives_counts_and_each_lines_outcome(app, db, booking, runner):
    booking("R-M4ZB6E"), booking("R-Q2J7VA")
    result = runner.invoke(args=["payments", "import", str(FILES / "seb_camt053_001_08.xml"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {"lines": 4, "matched": 2, "needs_attention": 1, "already_imported": 0, "skipped": 1}
    assert [(l["outcome"], l["booking"], l["amount"], l["currency"]) for l in data["lines"]] == [
        ("matched", "R-M4ZB6E", "90.00", "EUR"), ("matched", "R-Q2J7VA", "90.00", "EUR"),
        ("skipped", None, "90.00", "EUR"), ("unknown_reference", None, "1020.00", "SEK")]
    assert data["lines"][0]["entry_ref"] == "SEB-8E21C0A9-0001" and data["lines"][0]["booked_on"] == "2026-11-25"
    again = json.loads(runner.invoke(args=["payments", "import", str(FILES / "seb_camt053_001_08.xml"), "--json"]).output)
    assert again["counts"]["already_imported"] == 3 and again["counts"]["matched"] == 0


@pytest.mark.parametrize("lang, words", [("de", "unvollständig"), ("sv", "ofullständigt")])
def test_cli_exits_1_with_the_message_on_a_bad_file(app, db, runner, tmp_path, lang, words):
    path = tmp_path / "cut.xml"
    path.write_bytes(CAMT_02[:3000])
    result = runner.invoke(args=["payments", "import", str(path), "--lang", lang])
    assert result.exit_code == 1 and words in result.output
    as_json = runner.invoke(args=["payments", "import", str(path), "--json", "--lang", lang])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["error"] == "truncated"
    assert _count(db, StatementImport) == 0


def test_the_number_of_queries_does_not_grow_with_the_entries(app, db, booking):
    """Indexed lookups in bulk: 20 or 400 credits (references, duplicates, no reference) cost the same queries."""
    from sqlalchemy import event

    for i, ref in enumerate(["R-7KQ4M2", "R-3HX9PD", "R-WN5T8C"]):
        booking(ref, state="confirmed" if i else "awaiting_payment")

    def queries(n, prefix):
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            import_statement(camt(*[{"amount": "90.00", "ref": f"{prefix}{i}", "name": f"Payer {i}",
                                     "text": ["R-3HX9PD", "R-WN5T8C danke", "Miete", "R-ZZZZZZ"][i % 4]}
                                    for i in range(n)]), actor="cli")
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert queries(20, "S") == queries(400, "L")


# --- privacy ---------------------------------------------------------------------------------

def test_payer_data_from_statements_is_exported_erased_and_purged_with_the_clients_data(app, db, booking, frozen_now):
    from reflexion.privacy import retention

    erika = booking("R-7KQ4M2", email="erika@example.org")
    import_statement(camt({"amount": "90.00", "text": "R-7KQ4M2", "ref": "P1", "name": "Erika Muster",
                           "day": "2026-11-22"},
                          {"amount": "20.00", "text": "Spende", "ref": "P2", "name": "Old Payer", "day": "2026-01-02"},
                          {"amount": "30.00", "text": "offen", "ref": "P3", "name": "Open Payer", "day": "2026-01-02"}),
                     actor="cli")
    db.session.commit()
    exported = retention.export_client("erika@example.org")
    assert exported["bookings"][0]["bank_entries"][0]["payer"] == "Erika Muster"
    old = db.session.scalars(select(StatementEntry).where(StatementEntry.entry_ref == "P2")).one()
    resolve_entry(old, "ignore", actor="op@example.com")
    db.session.commit()
    retention.purge_expired()  # 180 days: the January entry that was dealt with loses its payer data
    db.session.commit()
    rows = {e.entry_ref: e for e in db.session.scalars(select(StatementEntry))}
    assert rows["P2"].debtor_name is None and rows["P2"].remittance is None and rows["P2"].amount_cents == 2000
    assert rows["P3"].debtor_name == "Open Payer"  # still waits for the operator
    assert rows["P1"].debtor_name == "Erika Muster"
    erika.state = "completed"
    db.session.commit()
    retention.erase_client("erika@example.org")
    db.session.commit()
    db.session.refresh(rows["P1"])
    assert rows["P1"].debtor_name is None and rows["P1"].remittance is None


def test_a_zip_of_camt_files_is_read_as_one_statement(app, db, booking):
    """German banks ship camt.053 as a ZIP with one file per account and day."""
    import io
    import zipfile

    booking("R-7KQ4M2"), booking("R-M4ZB6E")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2026-11-24_C53_DE02120300000000202051_EUR_000047.xml", CAMT_02)
        archive.writestr("2026-11-25_C53_SE4550000000058398257466_EUR_000331.xml", CAMT_08)
    result = import_statement(buffer.getvalue(), actor="cli")
    assert result.record.matched == 2 and len(result.statement.accounts) == 3
    with pytest.raises(StatementError) as caught:
        import_statement(buffer.getvalue()[:200], actor="cli")
    assert caught.value.kind == "truncated"


@pytest.mark.parametrize("source", [CAMT_02, CAMT_08], ids=["001.02", "001.08"])
def test_prefixed_and_foreign_elements_read_by_local_name_as_before(source):
    """Entries are read through the document namespace's tags; a file writing that namespace with a
    prefix, an element in another namespace or in none, is renamed into it first: read alike."""
    text = source.decode()
    namespace = text.split('xmlns="', 1)[1].split('"', 1)[0]
    plain = read_statement(source)
    prefixed = re.sub(r"<(/?)(?=[A-Za-z])", r"<\1c:", text).replace(f'xmlns="{namespace}"', f'xmlns:c="{namespace}"')
    foreign = text.replace("<Ustrd>", '<o:Ustrd xmlns:o="urn:example:other">', 1).replace("</Ustrd>", "</o:Ustrd>", 1)
    unqualified = text.replace("<Nm>", '<Nm xmlns="">')
    for variant in (prefixed, foreign, unqualified):
        assert variant != text
        assert read_statement(variant.encode()).lines == plain.lines
    # and the namespaced lookups do not read a look-alike element in its wrong place
    moved = text.replace("<RmtInf>", "<RmtInfX>", 1).replace("</RmtInf>", "</RmtInfX>", 1)
    assert read_statement(moved.encode()).lines != plain.lines


def test_the_garbage_collector_is_paused_only_during_an_import(app, db, booking, monkeypatch):
    import gc

    from reflexion.payments import statements

    booking("R-7KQ4M2")
    seen = []
    original = statements._read_camt_tree

    def spy(data):
        seen.append(gc.isenabled())
        return original(data)

    monkeypatch.setattr(statements, "_read_camt_tree", spy)
    assert gc.isenabled()
    import_statement(CAMT_02, actor="cli")
    assert seen == [False] and gc.isenabled()
    with pytest.raises(StatementError):
        import_statement(CAMT_02[:len(CAMT_02) // 2], actor="cli")
    assert gc.isenabled()
    gc.disable()  # whoever paused it before keeps it paused
    try:
        read_statement(CAMT_08)
        assert not gc.isenabled()
    finally:
        gc.enable()
