"""The client's receipt and credit note as PDF downloads, with the booking page's access rules."""
from flask import Blueprint, abort, current_app

from reflexion.booking import operations
from reflexion.booking.views import _has_access
from reflexion.receipts import documents

bp = Blueprint("receipts", __name__, url_prefix="/<lang>")


def _pdf_response(document):
    response = current_app.response_class(documents.pdf_bytes(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{documents.filename(document)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _opened_booking(ref):
    """The booking this browser session has opened with its access key, else 404 (as the page)."""
    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref):
        abort(404)
    return booking


@bp.route("/booking/<ref>/receipt.pdf")
def receipt(ref):
    """The receipt for the booking's payment (once paid), in the client's language."""
    document = documents.receipt_for(_opened_booking(ref))
    if document is None:
        abort(404)
    return _pdf_response(document)


@bp.route("/booking/<ref>/credit-note.pdf")
def credit_note(ref):
    """The credit note for the booking's refund (once refunded)."""
    document = documents.credit_note_for(_opened_booking(ref))
    if document is None:
        abort(404)
    return _pdf_response(document)
