"""Import a bank statement and act on its entries: the payment matching the operator used to do by eye.

:func:`import_statement` reads the file (:mod:`reflexion.payments.statements`), keeps every
credit once (:class:`~reflexion.payments.models.StatementEntry`, by a stable identity), and
confirms each credit that names a booking awaiting payment with exactly its fee through
:func:`reflexion.booking.payments.confirm_payment` (method ``bank_transfer``, the bank's entry
reference and booking date on the payment). Everything else is left for the operator with a
suggested booking: :func:`resolve_entry` confirms anyway, marks a refund due, or ignores it;
each action is audited (:class:`~reflexion.payments.models.StatementEntryAction`).

One import is one transaction: these functions flush; the view or command commits, or rolls
back on any error, so a failed import applies nothing.
"""
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from reflexion import clock
from reflexion.booking.codes import normalise_reference
from reflexion.booking.models import Booking
from reflexion.booking.payments import PreparedConfirmations, confirm_payment
from reflexion.booking.states import Actor, State, can_transition
from reflexion.extensions import db
from reflexion.payments.matching import (
    NEEDS_ATTENTION, Outcome, candidate_references, classify, line_texts, looks_like_reference, normalised_name,
)
from reflexion.payments.models import StatementEntry, StatementEntryAction, StatementImport
from reflexion.payments.statements import Statement, StatementLine, collector_paused, read_statement

METHOD = "bank_transfer"
#: Outcomes of lines that are not stored: not money received, or already imported.
ALREADY_IMPORTED = "already_imported"
SKIPPED = "skipped"
_CHUNK = 500  # bound parameters per IN (...) query


class EntryActionError(Exception):
    """An action the entry does not allow now; ``message`` is localized."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class LineResult:
    line: StatementLine
    outcome: str  # an Outcome, ALREADY_IMPORTED or SKIPPED
    identity: str | None = None  # of the stored entry (new ones only)
    booking: Booking | None = None  # matched, or suggested
    reason: str | None = None  # for SKIPPED: debit, reversal, pending
    _entry: StatementEntry | None = None

    @property
    def entry(self) -> StatementEntry | None:
        """The stored entry (loaded on first use: most are inserted in bulk, without objects)."""
        if self._entry is None and self.identity is not None:
            self._entry = db.session.scalar(select(StatementEntry).where(StatementEntry.identity == self.identity))
        return self._entry


@dataclass
class ImportResult:
    record: StatementImport
    statement: Statement
    lines: list[LineResult] = field(default_factory=list)

    def count(self, *outcomes) -> int:
        return sum(1 for r in self.lines if r.outcome in outcomes)


def import_statement(data: bytes, *, filename: str | None = None, actor: str = "cli") -> ImportResult:
    """Import the statement file ``data``; raise :class:`~reflexion.payments.statements.StatementError`
    (nothing applied) if it cannot be read. The caller commits."""
    with collector_paused():
        return _import_statement(data, filename=filename, actor=actor)


def _import_statement(data, *, filename, actor) -> ImportResult:
    statement = read_statement(data)
    now = clock.now()
    record = StatementImport(filename=(filename or "")[:255] or None, format=statement.format,
                             accounts=", ".join(statement.accounts)[:500], sha256=hashlib.sha256(data).hexdigest(),
                             imported_at=now, imported_by=actor[:254])
    db.session.add(record)
    db.session.flush()  # its id for the entries, which are inserted together at the end
    result = ImportResult(record=record, statement=statement)

    received, occurrences = [], Counter()
    for position, line in enumerate(statement.lines):
        if not line.money_received:
            reason = "pending" if not line.booked else ("reversal" if line.reversal else "debit")
            result.lines.append(LineResult(line, SKIPPED, reason=reason))
            continue
        result.lines.append(None)  # filled below, so the results keep the file's order
        received.append((position, line, _identity(line, occurrences)))

    seen = _existing_identities([identity for _, _, identity in received])
    received = [(position, line, identity, [] if identity in seen else candidate_references(line_texts(line)))
                for position, line, identity in received]
    by_ref = _bookings_by_ref({ref for _, _, _, refs in received for ref in refs})
    with PreparedConfirmations() as prepared:
        _match_and_store(result, received, seen, by_ref, prepared, actor=actor, now=now)
    record.lines_total = len(statement.lines)
    record.matched = result.count(Outcome.MATCHED)
    record.needs_attention = result.count(*NEEDS_ATTENTION)
    record.already_imported = result.count(ALREADY_IMPORTED)
    record.skipped = result.count(SKIPPED)
    db.session.flush()
    return result


def _match_and_store(result, received, seen, by_ref, prepared, *, actor, now):
    """Decide each new credit's outcome, store the entries, confirm the matches.

    The matches' confirmation data are hashed on worker threads from the moment a match is
    found (``prepared``) while the other lines are decided and inserted; the confirmations run
    last, in the file's order, each taking its hash when it is ready.
    """
    record = result.record
    suggest = _Suggestions()
    paid_now: set[int] = set()
    rows, matches = [], []
    # Start the slow hashes at once for the credits that look like matches (each is decided
    # again, in the file's order, below; data prepared for nothing is dropped).
    for _, line, identity, refs in received:
        if refs and identity not in seen:
            booking = _named_booking(refs, by_ref, paid_now)
            if booking is not None and classify(line, booking) == Outcome.MATCHED and not prepared.has(booking):
                prepared.prepare(booking)
    for position, line, identity, refs in received:
        if identity in seen:
            result.lines[position] = LineResult(line, ALREADY_IMPORTED)
            continue
        seen.add(identity)  # the same transaction twice in one file is kept once
        booking = _named_booking(refs, by_ref, paid_now)
        outcome = classify(line, booking, already_paid=booking is not None and booking.id in paid_now)
        if booking is None:
            # Loose candidates that name no booking are ordinary words ("GespRAECHDEzember").
            written = looks_like_reference(line_texts(line))
            outcome = Outcome.UNKNOWN_REFERENCE if written else Outcome.NO_REFERENCE
            booking = suggest.for_line(line, refs if written else [], paid_now)
        values = dict(
            import_id=record.id, identity=identity, account=line.account[:64],
            entry_ref=(line.tx_ref or line.entry_ref or "")[:120] or None, booked_on=line.booked_on,
            value_on=line.value_on, amount_cents=line.amount_cents, currency=line.currency,
            remittance=" / ".join([*line.structured_refs, *line.remittance])[:2000] or None,
            end_to_end_id=(line.end_to_end_id or "")[:120] or None, debtor_name=(line.debtor_name or "")[:140] or None,
            debtor_iban=(line.debtor_iban or "")[:40] or None, outcome=outcome.value,
            booking_id=booking.id if booking is not None else None,
        )  # payment, resolution and refund stay empty (NULL): nothing to bind for them
        item = LineResult(line, outcome.value, identity=identity, booking=booking)
        if outcome == Outcome.MATCHED:
            paid_now.add(booking.id)
            if not prepared.has(booking):
                prepared.prepare(booking)
            matches.append((item, values))
        else:
            rows.append(values)
        result.lines[position] = item
    # The matched entries first (ORM objects: the payment and the audit action refer to them),
    # as before; their confirmation waits until the bulk insert below is done.
    for item, values in matches:
        item._entry = StatementEntry(**values)
        db.session.add(item._entry)
    if rows:
        # One executemany for the many entries that only wait for the operator (the ORM would
        # insert them one by one to learn their ids, which nothing here needs).
        db.session.flush()
        for chunk in _chunks(rows):
            db.session.execute(insert(StatementEntry.__table__), chunk)
    for item, _ in matches:
        _confirm(item._entry, item.booking, actor=actor, now=now, note="matched by reference, amount and currency",
                 action="matched", prepared=prepared)


def _identity(line: StatementLine, occurrences: Counter) -> str:
    """The entry's stable identity across re-imports and overlapping statements."""
    if line.entry_ref:
        key = f"ref\x1f{line.account}\x1f{line.entry_ref}\x1f{line.tx_ref or ''}\x1f{line.tx_index}"
    else:
        fingerprint = line.fingerprint()
        occurrences[fingerprint] += 1
        key = f"fields\x1f{fingerprint}\x1f{occurrences[fingerprint]}"
    return hashlib.sha256(key.encode()).hexdigest()


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _existing_identities(identities) -> set[str]:
    found = set()
    for chunk in _chunks(set(identities)):
        found.update(db.session.scalars(select(StatementEntry.identity).where(StatementEntry.identity.in_(chunk))))
    return found


def _bookings_by_ref(refs) -> dict[str, Booking]:
    found = {}
    for chunk in _chunks(refs):
        for booking in db.session.scalars(select(Booking).where(Booking.ref.in_(chunk))):
            found[booking.ref] = booking
    return found


def _named_booking(refs, by_ref, paid_now) -> Booking | None:
    """The booking the line's references name: one still awaiting payment first."""
    named = [by_ref[ref] for ref in refs if ref in by_ref]
    for booking in named:
        if booking.state == State.AWAITING_PAYMENT and booking.id not in paid_now:
            return booking
    return named[0] if named else None


class _Suggestions:
    """For a credit naming no booking: an unpaid booking one typo away, or with the payer's name
    and the fee as amount. Loaded once per import (the bookings awaiting payment, by index)."""

    def __init__(self):
        self._loaded = False

    def _load(self):
        self._loaded = True
        self.by_pattern, self.by_name = defaultdict(list), defaultdict(list)
        for booking in db.session.scalars(select(Booking).where(Booking.state == State.AWAITING_PAYMENT.value)):
            code = booking.ref[2:]
            for i in range(len(code)):
                self.by_pattern[code[:i] + "?" + code[i + 1:]].append(booking)
            self.by_name[normalised_name(booking.name)].append(booking)

    def for_line(self, line, refs, paid_now=frozenset()) -> Booking | None:
        """``paid_now``: bookings this import confirms (no longer awaiting payment)."""
        if not self._loaded:
            self._load()
        for ref in refs:
            code = ref[2:]
            for i in range(len(code)):
                near = [b for b in self.by_pattern.get(code[:i] + "?" + code[i + 1:], ()) if b.id not in paid_now]
                if len(near) == 1:
                    return near[0]
        same_name = [b for b in self.by_name.get(normalised_name(line.debtor_name), [])
                     if line.debtor_name and b.currency == line.currency and b.id not in paid_now]
        exact = [b for b in same_name if b.fee_cents == line.amount_cents]
        if len(exact) == 1:
            return exact[0]
        return same_name[0] if len(same_name) == 1 else None


def _confirm(entry, booking, *, actor, now, note, action="confirmed", prepared=None):
    """Confirm ``booking`` with the entry's money (the one way a payment enters)."""
    confirm_payment(booking, actor=Actor.OPERATOR, method=METHOD, amount_cents=entry.amount_cents,
                    currency=entry.currency, provider_reference=entry.entry_ref, prepared=prepared)
    payment = booking.payments[-1]
    payment.booked_on = entry.booked_on
    entry.payment = payment
    entry.booking = booking
    entry.actions.append(StatementEntryAction(action=action, actor=actor[:254], at=now, booking_id=booking.id,
                                              note=note))


# --- the operator's actions on an entry that needs attention -------------------------------

ACTIONS = ("confirm", "refund_due", "ignore")


def open_entries(limit: int = 200):
    """Entries that need the operator's decision, oldest first."""
    return db.session.scalars(
        select(StatementEntry).where(StatementEntry.outcome != Outcome.MATCHED.value,
                                     StatementEntry.resolution.is_(None))
        .order_by(StatementEntry.booked_on, StatementEntry.id).limit(limit)
    ).all()


def allowed_actions(entry) -> tuple[str, ...]:
    """What the operator may do with ``entry`` now (none once matched or decided)."""
    if entry.outcome == Outcome.MATCHED.value or entry.resolution:
        return ()
    return ACTIONS


def resolve_entry(entry: StatementEntry, action: str, *, actor: str, ref: str | None = None, note: str | None = None):
    """Apply the operator's decision to ``entry`` and audit it. The caller commits.

    ``confirm``: confirm the booking ``ref`` (default: the suggested one) with this money,
    whatever the amount; an overpayment's excess is marked for refund. ``refund_due``: record
    that the money goes back (on the entry: it is money that never became a booking's
    payment, so the bookings' refund signal does not apply). ``ignore``: keep it, do nothing.
    """
    if action not in ACTIONS:
        raise EntryActionError(_l("Unknown action."))
    if not allowed_actions(entry):
        raise EntryActionError(_l("This entry has already been dealt with."))
    now = clock.now()
    booking = entry.booking
    if action == "confirm":
        if ref and ref.strip():
            # typed as tolerantly as a remittance text ("r wn5t8c")
            wanted = (candidate_references([ref]) or [normalise_reference(ref)])[0]
            booking = db.session.scalar(select(Booking).where(Booking.ref == wanted))
            if booking is None:
                raise EntryActionError(_l("No booking has the reference %(ref)s.", ref=wanted))
        if booking is None:
            raise EntryActionError(_l("Please enter the reference of the booking this payment is for."))
        if not can_transition(booking, State.CONFIRMED, Actor.OPERATOR):
            raise EntryActionError(_l("Booking %(ref)s is not awaiting payment; nothing was confirmed.",
                                      ref=booking.ref))
        if not (booking.call_handle or "").strip():
            raise EntryActionError(_l("Booking %(ref)s has no call name yet; it cannot be confirmed.", ref=booking.ref))
        _confirm(entry, booking, actor=actor, now=now, note=_note(f"confirmed despite: {entry.outcome}", note))
        if entry.currency == booking.currency and entry.amount_cents > booking.fee_cents:
            entry.refund_cents = entry.amount_cents - booking.fee_cents
        entry.resolution = "confirmed"
    elif action == "refund_due":
        entry.refund_cents = entry.amount_cents
        entry.resolution = "refund_due"
        entry.actions.append(StatementEntryAction(action="refund_due", actor=actor[:254], at=now,
                                                  booking_id=booking.id if booking else None, note=_note(None, note)))
    else:
        entry.resolution = "ignored"
        entry.actions.append(StatementEntryAction(action="ignored", actor=actor[:254], at=now,
                                                  booking_id=booking.id if booking else None, note=_note(None, note)))
    entry.resolved_at, entry.resolved_by = now, actor[:254]
    db.session.flush()
    return entry


def _note(base, extra):
    text = "; ".join(filter(None, [base, (extra or "").strip()]))
    return text[:500] or None


def summary_json(result: ImportResult) -> dict:
    """An import as scripts read it: counts, then each line's outcome in file order."""
    record = result.record
    lines = []
    for item in result.lines:
        line, booking = item.line, item.booking
        lines.append({
            "outcome": item.outcome,
            "reason": item.reason,
            "account": line.account,
            "entry_ref": line.tx_ref or line.entry_ref,
            "booked_on": line.booked_on.isoformat() if line.booked_on else None,
            "amount": f"{line.amount_cents // 100}.{line.amount_cents % 100:02d}",
            "currency": line.currency,
            "credit": line.credit,
            "booking": booking.ref if booking is not None and item.outcome == Outcome.MATCHED else None,
            "suggested_booking": booking.ref if booking is not None and item.outcome != Outcome.MATCHED else None,
        })
    return {
        "ok": True,
        "import_id": record.id,
        "format": record.format,
        "accounts": result.statement.accounts,
        "counts": {"lines": record.lines_total, "matched": record.matched,
                   "needs_attention": record.needs_attention, "already_imported": record.already_imported,
                   "skipped": record.skipped},
        "lines": lines,
    }


# --- privacy: what the bank told us about the payer -------------------------------------------

def anonymise_entries(*, booked_before=None, booking_ids=None) -> int:
    """Drop the payer's name, IBAN and texts from imported entries; amounts, dates and outcomes stay.

    ``booked_before``: entries booked before that date that are dealt with (matched or decided;
    open ones wait for the operator). ``booking_ids``: every entry of those bookings (erasure).
    The caller commits.
    """
    query = select(StatementEntry).where((StatementEntry.debtor_name.is_not(None))
                                         | (StatementEntry.remittance.is_not(None))
                                         | (StatementEntry.debtor_iban.is_not(None)))
    if booking_ids is not None:
        query = query.where(StatementEntry.booking_id.in_(list(booking_ids)))
    if booked_before is not None:
        query = query.where(StatementEntry.booked_on < booked_before,
                            (StatementEntry.outcome == Outcome.MATCHED.value) | StatementEntry.resolution.is_not(None))
    entries = db.session.scalars(query).all()
    for entry in entries:
        entry.debtor_name = entry.debtor_iban = entry.remittance = entry.end_to_end_id = None
    return len(entries)


def entries_json(booking_id: int) -> list[dict]:
    """The imported bank entries of one booking, for the client's data export."""
    return [{"booked_on": e.booked_on.isoformat() if e.booked_on else None, "amount_cents": e.amount_cents,
             "currency": e.currency, "payer": e.debtor_name, "payer_iban": e.debtor_iban,
             "payment_reference": e.remittance, "outcome": e.outcome, "resolution": e.resolution}
            for e in db.session.scalars(select(StatementEntry).where(StatementEntry.booking_id == booking_id)
                                        .order_by(StatementEntry.id))]
