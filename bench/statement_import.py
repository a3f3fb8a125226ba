"""Benchmark: import a camt.053 statement with 10,000 entries against 5,000 bookings.

Run: ``.venv/bin/python bench/statement_import.py`` (prints a small report; asserts nothing).

The statement: 4,000 debits, 3,000 credits without a reference (the suggestion lookup runs
for each), 2,500 credits naming already paid bookings (duplicates), 490 partial payments and
10 exact matches, written as clients write references (case, spaces, dashes, other text).
The bookings: 4,000 paid, 500 expired, 500 awaiting payment. A private Redis takes the
confirmation e-mails' jobs, as in production. Reported: the first import (parse, match, store,
confirm, commit), the confirmation-data hashing inside it (scrypt, per confirmation, a
deliberate cost), a re-import of the same file, and the SQL statements each ran.
"""
import os
import random
import time
from datetime import datetime, timedelta, timezone

from _common import temp_instance

from sqlalchemy import event

from reflexion import clock, create_app
from reflexion.booking import codes
from reflexion.booking.models import Booking
from reflexion.extensions import db
from reflexion.payments.operations import import_statement
from reflexion.redis_conn import PrivateRedis

NOW = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
BOOKINGS = 5000
ENTRIES = 10_000
MATCHES = 10
FORMS = ["{ref}", "{low}", "Ref {ref} Danke", "{spaced}", "Sitzung {nodash}", "{ref} Erika"]


def seed():
    db.create_all()
    key_hash = codes.hash_access_key("abcd-efgh-jkmn")
    refs = set()
    while len(refs) < BOOKINGS:
        refs.add(codes.new_reference())
    rows = []
    for i, ref in enumerate(sorted(refs)):
        state = "confirmed" if i < 4000 else ("expired" if i < 4500 else "awaiting_payment")
        start = NOW + timedelta(hours=i - 4000)
        rows.append(dict(ref=ref, access_key_hash=key_hash, state=state, start_at=start,
                         end_at=start + timedelta(minutes=45), name=f"Client {i}", email=f"c{i}@example.org",
                         call_handle=f"client.{i}", lang="de", created_at=NOW, created_by="client",
                         payment_deadline=NOW + timedelta(days=2), fee_cents=9000, currency="EUR",
                         ical_uid=f"bench-{i}@reflexion", ical_sequence=0, verify_failures=0,
                         session_minutes=45.0, no_answer_minutes=15.0))
    db.session.execute(Booking.__table__.insert(), rows)
    db.session.commit()
    return [r["ref"] for r in rows]


def statement(refs) -> bytes:
    rng = random.Random(7)
    paid, awaiting = refs[:4000], refs[4500:]
    entries = []
    for i in range(ENTRIES):
        if i < 4000:
            cd, amount, text = "DBIT", "12.90", f"Miete {i}"
        elif i < 7000:
            cd, amount, text = "CRDT", "90.00", f"Gutschrift {i} ohne Bezug"
        elif i < 9500:
            cd, amount, text = "CRDT", "90.00", f"Zahlung {rng.choice(paid)}"
        elif i < 9990:
            cd, amount, text = "CRDT", "45.00", awaiting[i - 9500 + MATCHES]
        else:
            ref = awaiting[i - 9990]
            form = FORMS[i % len(FORMS)]
            cd, amount, text = "CRDT", "90.00", form.format(ref=ref, low=ref.lower().replace("-", ""),
                                                           spaced=ref.replace("-", " "), nodash=ref.replace("-", ""))
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{cd}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            f'<BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt>'
            f'<AcctSvcrRef>BENCH-{i:06d}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId>'
            f'</Refs><Amt Ccy="EUR">{amount}</Amt><RltdPties><Dbtr><Pty><Nm>Payer {i}</Nm></Pty></Dbtr></RltdPties>'
            f'<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>')
    return ('<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            '<BkToCstmrStmt><GrpHdr><MsgId>B</MsgId><CreDtTm>2026-11-25T06:00:00+01:00</CreDtTm></GrpHdr><Stmt>'
            '<Id>S</Id><CreDtTm>2026-11-25T06:00:00+01:00</CreDtTm><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id>'
            '</Acct>' + "".join(entries) + '</Stmt></BkToCstmrStmt></Document>').encode()


def timed_import(data, statements):
    """Wall time and this process's CPU time (the machine is shared: CPU time is the steadier figure)."""
    statements.clear()
    started, cpu = time.perf_counter(), time.process_time()
    result = import_statement(data, filename="bench.xml", actor="bench")
    db.session.commit()
    return time.perf_counter() - started, time.process_time() - cpu, result, len(statements)


def main():
    instance = temp_instance()
    redis = PrivateRedis(instance / "redis").start()
    try:
        app = create_app({"INSTANCE_DIR": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                          "REDIS_URL": redis.url, "TESTING": True, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
        with app.app_context():
            clock.freeze(NOW)
            refs = seed()
            data = statement(refs)
            statements = []
            event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
            seconds, cpu, result, queries = timed_import(data, statements)
            hashing = []
            for _ in range(3):
                started = time.process_time()
                codes.hash_confirmation_code("1234 5678")
                hashing.append(time.process_time() - started)
            per_hash = sorted(hashing)[1]
            again, cpu_again, second, queries_again = timed_import(data, statements)
            load = os.getloadavg()[0]
            record = result.record
            print(f"statement: {ENTRIES:,} entries ({len(data) / 1e6:.1f} MB camt.053.001.08); bookings: {BOOKINGS:,}")
            print(f"machine load average: {load:.1f} on {os.cpu_count()} cores")
            print(f"first import: {seconds:.2f} s wall, {cpu:.2f} s CPU — {record.matched} confirmed, "
                  f"{record.needs_attention:,} for attention, {record.skipped:,} debits; {queries} SQL statements")
            print(f"  of which confirmation-data hashing (scrypt, {per_hash * 1000:.0f} ms CPU each): "
                  f"≈{record.matched * per_hash:.2f} s; everything else ≈{cpu - record.matched * per_hash:.2f} s CPU")
            print(f"re-import of the same file: {again:.2f} s wall, {cpu_again:.2f} s CPU — "
                  f"{second.record.already_imported:,} already imported, {second.record.matched} confirmed; "
                  f"{queries_again} SQL statements")
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
