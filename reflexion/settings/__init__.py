"""The practice's settings: the one accessor for every value the operator may change.

``config.py`` reads the deployment's environment (database, Redis, mail server, secrets) and
gives every practice setting its first value. The practice's own details (brand, fee, bank
details, booking rules, call platforms, contact data, legal texts) are read through
``setting(key)`` only: a value changed at ``/operator/settings`` or with ``flask settings set``
is stored in the database (:mod:`reflexion.settings.models`) and wins over the environment in
every process from its next request or job on (:mod:`reflexion.settings.store`). What may be
changed and how it is checked: :mod:`reflexion.settings.registry`; the change itself, its audit
and the terms version: :mod:`reflexion.settings.operations`.
"""
from functools import lru_cache

from flask import current_app

from reflexion.settings import registry, store


def setting(key: str):
    """Return the current value of the practice setting ``key`` (e.g. ``"FEE_AMOUNT"``)."""
    values = store.stored_values()
    if key in values:
        return values[key]
    value = current_app.config[key]
    if key == "PLATFORMS" and isinstance(value, str):
        return [dict(entry) for entry in _platforms_from_env(value)]
    return value


@lru_cache(maxsize=8)
def _platforms_from_env(text: str) -> tuple:
    try:
        return tuple(registry.parse_platforms_text(text))
    except registry.Invalid as exc:
        raise RuntimeError(f"REFLEXION_PLATFORMS: {exc}") from None
