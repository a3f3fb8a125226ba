"""Public information pages and the contact form."""
from babel.numbers import format_decimal
from flask import Blueprint, g, redirect, render_template, request, url_for

from reflexion.booking.withdrawal import declare_withdrawal, reference_prefill
from reflexion.extensions import limiter
from reflexion.pages.forms import ContactForm, WithdrawalForm
from reflexion.pages.legal import connected_payment_provider, own_text
from reflexion.platforms import HandleError
from reflexion.pages.operations import receive_message
from reflexion.settings import setting

bp = Blueprint("pages", __name__, url_prefix="/<lang>")


def _number(value) -> str:
    """Format a setting such as 45.0 minutes as "45", keeping real fractions ("0,5" in German)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return format_decimal(value, locale=g.get("lang") or "de")


@bp.context_processor
def practice_rules():
    """The rule figures the pages quote, taken from the settings the system enforces."""
    return {
        "session_minutes": _number(setting("SESSION_MINUTES")),
        "no_answer_minutes": _number(setting("NO_ANSWER_MINUTES")),
        "payment_window_hours": _number(setting("PAYMENT_WINDOW_HOURS")),
        "payment_cutoff_hours": _number(setting("PAYMENT_CUTOFF_HOURS")),
        "min_notice_hours": _number(setting("MIN_NOTICE_HOURS")),
        "terms_version": setting("TERMS_VERSION"),
        # The change and refund policy the terms state (the bookings-change work enforces it)
        "change_cutoff_hours": _number(setting("CHANGE_CUTOFF_HOURS")),
        "max_reschedules": int(setting("MAX_RESCHEDULES")),
        "refund_before_cutoff": int(setting("REFUND_PERCENT_BEFORE_CUTOFF")),
        "refund_after_cutoff": int(setting("REFUND_PERCENT_AFTER_CUTOFF")),
        "retention_days": int(setting("RETENTION_DAYS")),
        "message_retention_days": int(setting("MESSAGE_RETENTION_DAYS")),
    }


@bp.route("/")
def home():
    return render_template("pages/home.html")


@bp.route("/video-calls")
def video_calls():
    return render_template("pages/video_calls.html")


@bp.route("/how-it-works")
def how_it_works():
    return render_template("pages/how_it_works.html")


@bp.route("/imprint")
def imprint():
    """The legal notice (Impressum, §5 DDG), from the settings or the operator's own text."""
    return render_template("pages/imprint.html", own_text=own_text("IMPRINT", g.lang))


@bp.route("/privacy")
def privacy():
    """The privacy notice (Art. 13 GDPR) with the real retention periods."""
    return render_template("pages/privacy.html", own_text=own_text("PRIVACY", g.lang),
                           payment_provider=connected_payment_provider())


@bp.route("/terms")
def terms():
    """The terms: session rules, cancellation and refunds, the right of withdrawal."""
    return render_template("pages/terms.html", own_text=own_text("TERMS", g.lang))


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per day", methods=["POST"])
def contact():
    form = ContactForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("pages/contact.html", form=form), 400
        try:
            receive_message(name=form.name.data, email=form.email.data, call_handle=form.call_handle.data,
                            call_platform=form.call_platform.data, message=form.message.data, lang=g.lang)
        except HandleError as exc:  # the form checks the same rule: the offered platforms just changed
            form.call_handle.errors.append(str(exc))
            return render_template("pages/contact.html", form=form), 400
        return redirect(url_for(".contact", sent=1), code=303)
    return render_template("pages/contact.html", form=form, sent=request.args.get("sent") == "1")


# -- the withdrawal function (§ 356a BGB): form, confirmation step, acknowledgment -------------

@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit("10 per minute; 60 per day", methods=["POST"])
def withdraw():
    """Step one: reference, name, e-mail. A valid form leads to the confirmation step.

    The booking page links here with ``?ref=``: only the reference is taken from a link.
    """
    if request.method == "POST":
        form = WithdrawalForm()
        if not form.validate():
            return render_template("pages/withdraw.html", form=form), 400
        return render_template("pages/withdraw_confirm.html", form=form)
    form = WithdrawalForm(reference=reference_prefill(request.args.get("ref")))
    return render_template("pages/withdraw.html", form=form)


@bp.route("/withdraw/confirm", methods=["POST"])
@limiter.limit("5 per minute; 30 per day")
def withdraw_confirm():
    """Step two ("Confirm withdrawal"): the declaration is made, kept, and its receipt e-mailed."""
    form = WithdrawalForm()
    if not form.validate():
        return render_template("pages/withdraw.html", form=form), 400
    declaration = declare_withdrawal(reference=form.reference.data, name=form.name.data, email=form.email.data,
                                     lang=g.lang)
    return render_template("pages/withdraw_done.html", declaration=declaration)
