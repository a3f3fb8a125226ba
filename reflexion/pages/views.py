"""Public information pages and the contact form."""
from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reflexion.extensions import db, limiter
from reflexion.pages.forms import ContactForm
from reflexion.pages.operations import receive_message

bp = Blueprint("pages", __name__, url_prefix="/<lang>")


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
        db.session.commit()
        return redirect(url_for(".contact", sent=1), code=303)
    return render_template("pages/contact.html", form=form, sent=request.args.get("sent") == "1")
