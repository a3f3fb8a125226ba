"""``flask bookings ...``: operators' scripts create, confirm and read bookings.

``create``, ``show`` and ``list`` print JSON with ``--json``: each booking an object with
``ref``, ``state``, ``start``/``end`` (ISO 8601 with the practice zone's offset) and
``transitions`` (``from``, ``to``, ``at``, ``actor``, ``note``, ``note_code``, ``note_params``), the
audit log in order: ``note`` is the line's note as English text, ``note_code`` and
``note_params`` what the system recorded (stable for scripts; ``note_code`` is null for a
line written before notes became codes, whose text is kept as it was typed).
"""
import json
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from reflexion.booking import operations
from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.changes import MoveRefused, move_booking
from reflexion.booking.models import DEFAULT_PAYMENT_METHOD, PAYMENT_METHODS, Booking
from reflexion.booking.notes import entry_text_en
from reflexion.booking.payments import PaymentError, confirm_payment
from reflexion.booking.states import Actor, IllegalTransition, State
from reflexion.db import unit_of_work
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.operator.bookings import BadStart, book_by_operator, parse_start
from reflexion.operator.forms import OperatorBookingForm

bookings_cli = AppGroup("bookings", help="Create and inspect bookings.")


def iso(instant: datetime | None) -> str | None:
    """ISO 8601 with the practice zone's offset, e.g. ``2026-12-01T10:00:00+01:00``."""
    return instant.astimezone(practice_zone()).isoformat() if instant else None


def booking_json(booking: Booking, access_key: str | None = None) -> dict:
    """A booking as operators' scripts read it."""
    data = {
        "id": booking.id,
        "ref": booking.ref,
        "state": booking.state,
        "start": iso(booking.start_at),
        "end": iso(booking.end_at),
        "name": booking.name,
        "email": booking.email,
        "call_handle": booking.call_handle,
        "call_platform": booking.call_platform,
        "lang": booking.lang,
        "paid": booking.confirmed_at is not None,
        "created_at": iso(booking.created_at),
        "created_by": booking.created_by,
        "payment_deadline": iso(booking.payment_deadline) if booking.state == State.AWAITING_PAYMENT else None,
        "verify_failures": booking.verify_failures,
        "reschedule_count": booking.reschedule_count or 0,
        "ical_sequence": booking.ical_sequence,
        "refund": ({"amount": f"{booking.refund_cents / 100:.2f}", "currency": booking.currency,
                    "state": booking.refund_state} if booking.refund_cents else None),
        "transitions": [
            {"from": t.from_state, "to": t.to_state, "at": iso(t.at), "actor": t.actor,
             "note": entry_text_en(t) or None, "note_code": t.note_code, "note_params": t.note_params}
            for t in booking.transitions
        ],
    }
    if access_key:
        data["access_key"] = access_key  # only right after creation: it is stored as a hash
    return data


def _echo_booking(booking, as_json, access_key=None):
    if as_json:
        click.echo(json.dumps(booking_json(booking, access_key), ensure_ascii=False, indent=2))
        return
    paid = "paid" if booking.confirmed_at else "not paid"
    click.echo(f"{booking.ref}  {booking.state:<16} {iso(booking.start_at)}  {booking.name} <{booking.email}>  "
               f"{booking.call_platform} {booking.call_handle}  {booking.lang}  {paid}")
    if access_key:
        click.echo(f"access key: {access_key}  (shown only now)")


def _find(ref) -> Booking:
    booking = operations.find_by_reference(ref)
    if booking is None:
        raise click.ClickException(f"no booking with reference {ref!r}")
    return booking


@bookings_cli.command("create")
@click.option("--start", required=True,
              help="Start, ISO 8601 (2026-12-01T10:00+01:00 or ...Z); without an offset it is practice time.")
@click.option("--name", required=True, help="The client's name.")
@click.option("--email", required=True, help="The client's e-mail address.")
@click.option("--handle", "call_handle", required=True,
              help="The client's handle on the platform (phone number, e-mail address or user name, as it takes).")
@click.option("--platform", "call_platform", default=None,
              help="The call platform (an enabled one, e.g. teams or whatsapp); default: the first enabled.")
@click.option("--lang", type=click.Choice(["de", "sv"]), default="de", show_default=True, help="The client's language.")
@click.option("--paid", is_flag=True, help="The fee has been paid: confirm the booking at once.")
@click.option("--method", type=click.Choice(PAYMENT_METHODS), default=DEFAULT_PAYMENT_METHOD,
              show_default=True, help="How the fee was paid (with --paid).")
@click.option("--json", "as_json", is_flag=True, help="Print the new booking as JSON.")
def create(start, name, email, call_handle, call_platform, lang, paid, method, as_json):
    """Book a client at any start that overlaps no other booking (no opening-hours or notice rules)."""

    try:
        start_at = parse_start(start)
    except BadStart as exc:
        reason = "does not exist in practice time (clocks go forward)" if str(exc) == "nonexistent" else "is not ISO 8601"
        raise click.ClickException(f"--start {start!r} {reason}") from exc
    form = OperatorBookingForm(
        formdata=MultiDict({"day": start_at.date().isoformat(), "start_time": "00:00", "name": name,
                            "email": email, "call_handle": call_handle, "lang": lang,
                            **({"call_platform": call_platform} if call_platform else {})}),
        meta={"csrf": False},
    )
    if not form.validate():
        options = {"call_handle": "handle", "call_platform": "platform"}
        problems = "; ".join(f"--{options.get(k, k)}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        raise click.ClickException(problems)
    try:
        with unit_of_work():
            new = book_by_operator(start_at, name=form.name.data, email=form.email.data,
                                   call_handle=form.call_handle.data, call_platform=form.call_platform.data,
                                   lang=lang, paid=paid, method=method)
    except operations.InvalidCallHandle as exc:
        raise click.ClickException(f"--handle: {exc.message}") from exc
    except operations.SlotTaken as exc:
        raise click.ClickException("this session would overlap another booking") from exc
    except operations.SlotUnavailable as exc:
        raise click.ClickException("the start is in the past") from exc
    _echo_booking(new.booking, as_json, access_key=new.access_key)


@bookings_cli.command("mark-paid")
@click.argument("ref")
@click.option("--method", type=click.Choice(PAYMENT_METHODS), default=DEFAULT_PAYMENT_METHOD,
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the booking as JSON afterwards.")
def mark_paid(ref, method, as_json):
    """Record the fee of REF as paid: the booking is confirmed, the client gets the confirmation."""

    booking = _find(ref)
    try:
        with unit_of_work():
            confirm_payment(booking, actor=Actor.OPERATOR, method=method)
    except IllegalTransition as exc:
        raise click.ClickException(f"{booking.ref} is {booking.state}, not awaiting payment") from exc
    except PaymentError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _echo_booking(booking, True)
    else:
        click.echo(f"{booking.ref} confirmed (paid by {method})")


@bookings_cli.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(ref, as_json):
    """Show one booking with its history."""
    booking = _find(ref)
    _echo_booking(booking, as_json)
    if not as_json:
        for t in booking.transitions:
            click.echo(f"  {iso(t.at)}  {t.from_state} -> {t.to_state}  by {t.actor}" + (f"  ({text})" if (text := entry_text_en(t)) else ""))


@bookings_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in State]),
              help="Only bookings in this state (repeatable).")
def list_bookings(as_json, states):
    """List bookings by start."""
    query = select(Booking).options(selectinload(Booking.transitions)).order_by(Booking.start_at, Booking.id)
    if states:
        query = query.where(Booking.state.in_(states))
    rows = db.session.scalars(query).all()
    if as_json:
        click.echo(json.dumps([booking_json(b) for b in rows], ensure_ascii=False, indent=2))
        return
    for booking in rows:
        _echo_booking(booking, False)


#: Why a move was refused, for scripts (``--json`` prints the code as ``error``).
MOVE_ERRORS = {
    "past": "the new start is in the past",
    "overlap": "the session would overlap another booking",
    "taken": "the session would overlap another booking",
    "stale": "the booking changed meanwhile; try again",
    "not_movable": "the booking cannot be moved any more (the session began or it is over)",
    "same": "the booking already starts then",
}


def _fail(as_json: bool, code: str, message: str):
    if as_json:
        click.echo(json.dumps({"error": code, "message": message}), err=True)
    raise click.ClickException(message)


@bookings_cli.command("move")
@click.argument("ref")
@click.option("--start", required=True,
              help="New start, ISO 8601 (2026-12-01T10:00+01:00 or ...Z); without an offset it is practice time.")
@click.option("--json", "as_json", is_flag=True, help="Print the moved booking as JSON.")
def move(ref, start, as_json):
    """Move REF to another start that overlaps no other booking: same booking, invite updated in place."""
    booking = _find(ref)
    try:
        start_at = parse_start(start)
    except BadStart as exc:
        reason = "does not exist in practice time (clocks go forward)" if str(exc) == "nonexistent" else "is not ISO 8601"
        _fail(as_json, "bad_start", f"--start {start!r} {reason}")
    try:
        with unit_of_work():
            move_booking(booking, start_at, actor=Actor.OPERATOR)
    except (MoveRefused, operations.SlotTaken, operations.SlotUnavailable) as exc:
        _fail(as_json, exc.reason, f"{booking.ref}: {MOVE_ERRORS.get(exc.reason, exc.reason)}")
    if as_json:
        _echo_booking(booking, True)
    else:
        click.echo(f"{booking.ref} moved to {iso(booking.start_at)}")


@bookings_cli.command("cancel")
@click.argument("ref")
@click.option("--note", default=None, help="A reason, kept in the history.")
@click.option("--json", "as_json", is_flag=True, help="Print the cancelled booking as JSON.")
def cancel(ref, note, as_json):
    """Cancel REF (before its session); a paid booking's fee is refunded in full (recorded as due)."""
    booking = _find(ref)
    try:
        with unit_of_work():
            cancel_booking(booking, actor=Actor.OPERATOR, note=note)
    except IllegalTransition:
        _fail(as_json, "not_cancellable", f"{booking.ref} is {booking.state} and can no longer be cancelled")
    if as_json:
        _echo_booking(booking, True)
    else:
        refund = f"; refund due: {booking.refund_cents / 100:.2f} {booking.currency}" if booking.refund_cents else ""
        click.echo(f"{booking.ref} cancelled{refund}")
