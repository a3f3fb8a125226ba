"""Operator panel: one client's data — export as JSON, erase (anonymise)."""
import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reflexion.db import discard_changes
from reflexion.operator.auth import guard_operator_request
from reflexion.privacy import retention
from reflexion.privacy.forms import ClientDataForm

bp = Blueprint("privacy", __name__, url_prefix="/operator/client-data")


@bp.before_request
def operator_only():
    return guard_operator_request()


@bp.route("/")
def index():
    form = ClientDataForm(request.args, meta={"csrf": False})
    found = None
    if request.args.get("email") and form.validate():
        found = retention.export_client(form.email.data)
    return render_template("operator/client_data.html", form=form, erase_form=ClientDataForm(), found=found)


@bp.route("/export")
def export():
    form = ClientDataForm(request.args, meta={"csrf": False})
    if not form.validate():
        return render_template("operator/client_data.html", form=form, erase_form=ClientDataForm(), found=None), 400
    data = retention.export_client(form.email.data)
    return current_app.response_class(
        json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="client-data.json"', "Cache-Control": "no-store"},
    )


@bp.route("/erase", methods=["POST"])
def erase():
    form = ClientDataForm()
    if not form.validate():
        return render_template("operator/client_data.html", form=ClientDataForm(formdata=None), erase_form=form,
                               found=None), 400
    try:
        counts = retention.erase_client(form.email.data)
    except retention.ErasureRefused as refused:
        discard_changes()
        flash(_("Not erased: cancel or finish these bookings first: %(refs)s", refs=", ".join(refused.refs)), "error")
        return redirect(url_for(".index", email=form.email.data), code=303)
    flash(_("Erased: %(bookings)d booking(s), %(messages)d message(s) and %(declarations)d withdrawal "
            "declaration(s) made anonymous.", bookings=counts["bookings"], messages=counts["messages"],
            declarations=counts["declarations"]), "success")
    return redirect(url_for(".index"), code=303)
