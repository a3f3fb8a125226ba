"""Public information pages and the contact form."""
from babel.numbers import format_decimal
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from reflexion.extensions import limiter
from reflexion.pages.forms import ContactForm
from reflexion.pages.operations import receive_message

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
    config = current_app.config
    return {
        "session_minutes": _number(config["SESSION_MINUTES"]),
        "no_answer_minutes": _number(config["NO_ANSWER_MINUTES"]),
        "payment_window_hours": _number(config["PAYMENT_WINDOW_HOURS"]),
        "payment_cutoff_hours": _number(config["PAYMENT_CUTOFF_HOURS"]),
        "min_notice_hours": _number(config["MIN_NOTICE_HOURS"]),
        "terms_version": config["TERMS_VERSION"],
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


@bp.route("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/terms")
def terms():
    return render_template("pages/terms.html")


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per day", methods=["POST"])
def contact():
    form = ContactForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("pages/contact.html", form=form), 400
        receive_message(name=form.name.data, email=form.email.data, call_handle=form.call_handle.data,
                        message=form.message.data, lang=g.lang)
        return redirect(url_for(".contact", sent=1), code=303)
    return render_template("pages/contact.html", form=form, sent=request.args.get("sent") == "1")
