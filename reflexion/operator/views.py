"""Operator panel: login, dashboard."""
from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from reflexion.extensions import db, limiter
from reflexion.operator.auth import authenticate
from reflexion.operator.forms import LoginForm

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.before_request
def operator_language():
    g.lang = "de"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        if form.validate():
            operator = authenticate(form.email.data, form.password.data)
            if operator is not None:
                db.session.commit()
                session.clear()
                login_user(operator)
                session.permanent = True
                return redirect(url_for(".dashboard"), code=303)
            form.password.errors.append(_("E-mail address or password is wrong."))
            return render_template("operator/login.html", form=form), 401
        return render_template("operator/login.html", form=form), 400
    return render_template("operator/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for(".login"), code=303)


@bp.route("/")
@login_required
def dashboard():
    return render_template("operator/dashboard.html")
