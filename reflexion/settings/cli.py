"""``flask settings show [--json]`` and ``flask settings set KEY VALUE`` (same checks and audit as the panel)."""
import json

import click
from flask.cli import AppGroup
from flask_babel import force_locale, gettext as _

from reflexion.db import unit_of_work
from reflexion.settings import store
from reflexion.settings.operations import CLI_ACTOR, SettingsInvalid, all_values, change_settings, stored_keys
from reflexion.settings.registry import KEYS

settings_cli = AppGroup("settings", help="Show and change the practice's settings.")

_LANG = click.option("--lang", type=click.Choice(["de", "sv"]), default="de", show_default=True,
                     help="Language of the messages.")


@settings_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: key -> value.")
@_LANG
def show(as_json, lang):
    """Print every setting the panel edits, with its value in force."""
    values = all_values()
    if as_json:
        click.echo(json.dumps(values, ensure_ascii=False, indent=2, sort_keys=True))
        return
    stored = stored_keys()
    with force_locale(lang):
        for key, entry in KEYS.items():
            origin = _("changed") if key in stored else _("environment")
            text = entry.text(values[key]).replace("\n", " / ")
            click.echo(f"{key} = {text}    ({origin})")


@settings_cli.command("set")
@click.argument("key")
@click.argument("value")
@_LANG
def set_(key, value, lang):
    """Check and store one setting (audited as changed by "cli")."""
    key = key.strip().upper()
    with force_locale(lang):
        try:
            with unit_of_work():
                changes = change_settings({key: value}, actor=CLI_ACTOR)
        except SettingsInvalid as exc:
            raise click.ClickException("; ".join(f"{k}: {m}" for k, m in exc.errors.items())) from None
        store.forget()
        if not changes:
            click.echo(_("%(key)s unchanged.", key=key))
        for change in changes:
            click.echo(_("%(key)s: %(old)s → %(new)s", key=change.key, old=KEYS[change.key].text(change.old),
                         new=KEYS[change.key].text(change.new)))
