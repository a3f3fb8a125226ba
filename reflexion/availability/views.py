"""The opening-hours editor: weekly hours and dated exceptions (nested in the operator blueprint).

Changes apply to what clients can book from now on; existing bookings stay as they are.
The slot logic itself lives in :mod:`reflexion.availability.slots`, the changes in
:mod:`reflexion.availability.operations`.
"""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from reflexion import clock
from reflexion.availability import operations, slots
from reflexion.availability.forms import ExceptionForm, WeeklyRuleForm
from reflexion.availability.models import AvailabilityException, WeeklyRule
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.operator.forms import ActionForm

bp = Blueprint("availability", __name__, url_prefix="/availability")


def _page(rule_form=None, exception_form=None, status=200, stranded=None):
    today = clock.now().astimezone(practice_zone()).date()
    rules = operations.weekly_rules()
    exceptions = operations.exceptions_from(today)
    rule_form = rule_form or WeeklyRuleForm(formdata=None)
    return render_template(
        "operator/availability.html",
        rules=rules, exceptions=exceptions, weekdays={c.value: c.label for c in rule_form.weekday.choices},
        rule_form=rule_form, exception_form=exception_form or ExceptionForm(formdata=None),
        action_form=ActionForm(formdata=None), stranded=stranded or [],
    ), status


@bp.route("/")
def week():
    return _page()


@bp.route("/weekly", methods=["POST"])
def add_rule():
    form = WeeklyRuleForm()
    if not form.validate():
        return _page(rule_form=form, status=400)
    try:
        operations.add_weekly_hours(int(form.weekday.data), form.start.data, form.end.data)
    except operations.HoursOverlap:
        form.end.errors.append(_("These hours overlap hours already set for that day."))
        return _page(rule_form=form, status=409)
    flash(_("Opening hours added."), "success")
    return redirect(url_for(".week"), code=303)


def _remove(model, row_id, message):
    """Delete one weekly rule or exception (CSRF-checked) and go back to the editor."""
    if db.session.get(model, row_id) is None:
        abort(404)
    if not ActionForm().validate():
        abort(400)
    operations.remove(model, row_id)
    flash(message, "success")
    return redirect(url_for(".week"), code=303)


@bp.route("/weekly/<int:rule_id>/delete", methods=["POST"])
def delete_rule(rule_id):
    return _remove(WeeklyRule, rule_id, _("Opening hours removed. Bookings already made stay as they are."))


@bp.route("/exceptions", methods=["POST"])
def add_exception():
    form = ExceptionForm()
    if not form.validate():
        return _page(exception_form=form, status=400)
    closed = bool(form.closed.data)
    if closed and form.close_despite_bookings.data != "yes":
        stranded = slots.live_bookings_on(form.day.data, practice_zone())
        if stranded:
            # Closing keeps these bookings; the operator must see them before closing the day.
            return _page(exception_form=form, status=409, stranded=stranded)
    operations.add_exception(form.day.data, closed=closed, start=form.start.data, end=form.end.data,
                             note=form.note.data)
    flash(_("Exception saved."), "success")
    return redirect(url_for(".week"), code=303)


@bp.route("/exceptions/<int:exception_id>/delete", methods=["POST"])
def delete_exception(exception_id):
    return _remove(AvailabilityException, exception_id, _("Exception removed."))
