"""``/operator/settings``: the practice's settings, grouped, with the recent changes (nested in the operator blueprint).

The whole form is one submit: every field checked, all saved or none (4xx, typed values kept).
"""
import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from reflexion.settings import store
from reflexion.settings.operations import SettingsInvalid, all_values, change_settings, recent_changes, stored_keys
from reflexion.settings.registry import GROUPS, KEYS

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _page(typed=None, errors=None, status=200):
    values = all_values()
    stored = stored_keys()
    typed, errors = typed or {}, errors or {}
    groups = []
    for group, label in GROUPS:
        fields = [{"entry": entry, "text": typed.get(key, entry.text(values[key])), "error": errors.get(key),
                   "from_env": key not in stored}
                  for key, entry in KEYS.items() if entry.group == group and entry.panel]
        groups.append({"id": group, "label": label, "fields": fields})
    changes = [{"change": c, "label": KEYS[c.key].label if c.key in KEYS else c.key,
                "old": _shown(c.key, c.old_value), "new": _shown(c.key, c.new_value)} for c in recent_changes()]
    return render_template("operator/settings.html", groups=groups, errors=errors, changes=changes,
                           terms_version=values["TERMS_VERSION"]), status


def _shown(key, encoded):
    if encoded is None:
        return ""
    value = json.loads(encoded)
    entry = KEYS.get(key)
    return (entry.text(value) if entry else str(value)) or "–"


@bp.route("/", methods=["GET"])
def edit():
    return _page()


@bp.route("/", methods=["POST"])
def save():
    typed = {key: request.form[key] for key, entry in KEYS.items() if entry.panel and key in request.form}
    try:
        changes = change_settings(typed, actor=current_user.email)
    except SettingsInvalid as exc:
        return _page(typed=typed, errors=exc.errors, status=422)
    store.forget()
    if changes:
        flash(ngettext("Saved: %(num)d change. It applies at once, everywhere.",
                       "Saved: %(num)d changes. They apply at once, everywhere.", len(changes)), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for(".edit"), code=303)
