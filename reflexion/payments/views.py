"""Operator panel: upload a bank statement, see what was matched, decide on the rest.

``/operator/payments/import`` (nested in the operator blueprint: login required, German UI).
The upload may be larger than the app-wide request limit (``MAX_CONTENT_LENGTH``, 64 KiB):
this route alone allows ``STATEMENT_MAX_MB``, and therefore runs the CSRF check itself, after
raising the limit (the app-wide check would read the body under the small limit first).
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from reflexion.booking.states import IllegalTransition
from reflexion.db import abandon, discard_changes
from reflexion.extensions import csrf, db
from reflexion.i18n import format_number
from reflexion.payments.forms import EntryActionForm, UploadForm
from reflexion.payments.matching import Outcome
from reflexion.payments.models import StatementEntry, StatementImport, StripeCheckout
from reflexion.payments.operations import (
    EntryActionError, allowed_actions, import_statement, open_entries, resolve_entry,
)
from reflexion.payments.statements import StatementError
from reflexion.payments.stripe_checkout import dismiss

bp = Blueprint("payments", __name__, url_prefix="/payments")


def _limit_bytes() -> int:
    return int(float(current_app.config["STATEMENT_MAX_MB"]) * 1024 * 1024)


def _page(form, status=200, error=None):
    recent = db.session.scalars(select(StatementImport).order_by(StatementImport.id.desc()).limit(10)).all()
    return render_template("payments/import.html", form=form, error=error, entries=open_entries(),
                           imports=recent, action_form=EntryActionForm(), allowed_actions=allowed_actions,
                           max_mb=format_number(current_app.config["STATEMENT_MAX_MB"])), status


@bp.route("/import", methods=["GET"])
def import_form():
    return _page(UploadForm())


@bp.route("/import", methods=["POST"])
@csrf.exempt  # checked by the form below, once this route's own size limit is in force
def upload():
    # The multipart overhead on top of the file itself.
    request.max_content_length = _limit_bytes() + 64 * 1024
    try:
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()  # the app-wide check, now under this route's limit (a CSRFError: 400)
        form = UploadForm()
    except RequestEntityTooLarge:
        return _page(UploadForm(formdata=None), 413, error=_(
            "The file is too large: at most %(size)s MB can be imported at once.",
            size=format_number(current_app.config["STATEMENT_MAX_MB"])))
    if not form.validate():
        return _page(form, 400)
    upload_file = form.statement.data
    data = upload_file.read(_limit_bytes() + 1)
    if len(data) > _limit_bytes():
        return _page(form, 413, error=_("The file is too large: at most %(size)s MB can be imported at once.",
                                        size=format_number(current_app.config["STATEMENT_MAX_MB"])))
    try:
        result = import_statement(data, filename=upload_file.filename, actor=current_user.email)
        db.session.flush()  # a conflict shows here, not at the request's commit
    except StatementError as exc:
        abandon()
        return _page(form, 400, error=str(exc.message))
    except (IntegrityError, IllegalTransition):
        # Another import of the same entries committed first (the identity is unique), or a
        # booking changed meanwhile: this one applied nothing.
        abandon()
        return _page(form, 409, error=_("Another import or change happened at the same time; nothing was applied. "
                                        "Please import the statement again."))
    record = result.record
    flash(_("Statement imported. Payments confirmed: %(matched)d; for your decision: %(attention)d.",
            matched=record.matched, attention=record.needs_attention), "success")
    return redirect(url_for(".show_import", import_id=record.id), code=303)


@bp.route("/imports/<int:import_id>")
def show_import(import_id):
    record = db.session.get(StatementImport, import_id)
    if record is None:
        abort(404)
    entries = db.session.scalars(
        select(StatementEntry).where(StatementEntry.import_id == record.id)
        .options(selectinload(StatementEntry.booking), selectinload(StatementEntry.actions))
        .order_by(StatementEntry.id)).all()
    matched = [e for e in entries if e.outcome == Outcome.MATCHED.value]
    attention = [e for e in entries if e.outcome != Outcome.MATCHED.value]
    return render_template("payments/result.html", record=record, matched=matched, attention=attention,
                           action_form=EntryActionForm(), allowed_actions=allowed_actions)


@bp.route("/entries/<int:entry_id>", methods=["POST"])
def entry_action(entry_id):
    entry = db.session.get(StatementEntry, entry_id)
    if entry is None:
        abort(404)
    form = EntryActionForm()
    back = _back(entry)
    if not form.validate():
        flash(_("Please check your input and try again."), "error")
        return redirect(back, code=303)
    try:
        resolve_entry(entry, form.action.data, actor=current_user.email, ref=form.ref.data, note=form.note.data)
    except EntryActionError as exc:
        discard_changes()  # a refusal that redirects saves nothing
        flash(str(exc.message), "error")
        return redirect(back, code=303)
    messages = {
        "confirmed": _("Payment confirmed: booking %(ref)s is confirmed and the client receives the confirmation.",
                       ref=entry.booking.ref if entry.booking else ""),
        "refund_due": _("The amount is marked for refund."),
        "ignored": _("The entry is marked as ignored."),
    }
    flash(messages[entry.resolution], "success")
    return redirect(back, code=303)


@bp.route("/online/<int:checkout_id>/done", methods=["POST"])
def online_done(checkout_id):
    """The operator has dealt with an online payment that needed attention (in Stripe's dashboard)."""
    checkout = db.session.get(StripeCheckout, checkout_id)
    if checkout is None:
        abort(404)
    dismiss(checkout)
    flash(_("The online payment of booking %(ref)s is marked as dealt with.", ref=checkout.booking.ref), "success")
    return redirect(url_for("operator.dashboard") + "#online-payments", code=303)


def _back(entry) -> str:
    if request.form.get("back") == "import":
        return url_for(".show_import", import_id=entry.import_id) + f"#entry-{entry.id}"
    return url_for(".import_form") + f"#entry-{entry.id}"


#: What each outcome means, for the operator.
OUTCOME_LABELS = {
    Outcome.MATCHED: _l("Confirmed"),
    Outcome.PARTIAL: _l("Less than the fee"),
    Outcome.OVERPAID: _l("More than the fee"),
    Outcome.WRONG_CURRENCY: _l("Other currency"),
    Outcome.DUPLICATE: _l("Booking already paid"),
    Outcome.EXPIRED: _l("Booking expired"),
    Outcome.CANCELLED: _l("Booking cancelled"),
    Outcome.UNKNOWN_REFERENCE: _l("Unknown reference"),
    Outcome.NO_REFERENCE: _l("No reference"),
    Outcome.NOT_CONFIRMABLE: _l("Booking lacks a call name"),
}
RESOLUTION_LABELS = {
    "confirmed": _l("Confirmed anyway"),
    "refund_due": _l("Refund due"),
    "ignored": _l("Ignored"),
}


@bp.app_context_processor
def _labels():
    return {"outcome_labels": OUTCOME_LABELS, "resolution_labels": RESOLUTION_LABELS}
