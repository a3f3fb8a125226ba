"""How a fee can be paid: the methods' stored names and their labels (pure, no models)."""
from flask_babel import lazy_gettext as _l

#: The operator's choice when recording a payment; the first is the default.
PAYMENT_METHODS = ("bank_transfer", "cash", "other")
DEFAULT_PAYMENT_METHOD = PAYMENT_METHODS[0]
#: The operator's name for each payment method.
#: Paid online through Stripe Checkout (never chosen by hand: only the signed webhook records it).
ONLINE_METHOD = "stripe"
#: The name of each payment method (the operator's choices and the online one).
METHOD_LABELS = {"bank_transfer": _l("Bank transfer"), "cash": _l("Cash"), "other": _l("Other way of payment"),
                 ONLINE_METHOD: _l("Online payment (Stripe)")}


def method_label(method: str) -> str:
    """The name of a payment method in the current language (an unknown one as stored)."""
    label = METHOD_LABELS.get(method)
    return str(label) if label else method
