"""Field rules and the client-detail fields shared by the booking, contact and operator forms."""
import unicodedata
from datetime import timedelta
from wtforms import EmailField, RadioField, StringField

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from reflexion import clock, platforms
from reflexion.i18n import practice_zone, select_locale


def printable_text(form, field):
    """No control characters, no invisible formatting tricks, no line or paragraph separators
    other than plain newlines (U+2028/U+2029 break e-mail headers, logs and JSON-in-HTML)."""
    for char in field.data or "":
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} and char not in "\n\r\t":
            raise ValidationError(_l("Please remove invisible or control characters."))


#: Everything Python's str.splitlines() breaks on.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def single_line(form, field):
    if field.data and any(char in LINE_BREAKS for char in field.data):
        raise ValidationError(_l("Please keep this on one line."))


#: Dates the operator may enter: from a year back to this many years ahead (beyond: a typo).
DAY_YEARS_AHEAD = 5


def plausible_day(form, field):
    """A date within a year back and ``DAY_YEARS_AHEAD`` years ahead (9999-12-31 is a typo)."""


    if field.data is None:
        return
    today = clock.now().astimezone(practice_zone()).date()
    if not today - timedelta(days=366) <= field.data <= today + timedelta(days=366 * DAY_YEARS_AHEAD):
        raise ValidationError(_l("Please enter a date within the next five years."))


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


# -- the client's details: one definition for the booking, contact and operator forms --------

def name_field(label, required_message):
    """A person's name: 2–120 printable characters on one line."""

    return StringField(label, filters=[strip_filter], validators=[
        DataRequired(required_message),
        Length(min=2, max=120, message=_l("Please enter between 2 and 120 characters.")),
        printable_text, single_line,
    ])


def email_field(label, required_message):
    """An e-mail address: syntax checked (no DNS look-up), at most 254 characters, one line."""

    return EmailField(label, filters=[strip_filter], validators=[
        DataRequired(required_message),
        Length(max=254, message=_l("This e-mail address is too long.")),
        Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False),
        single_line,
    ])


def call_handle_field(label, required_message=None):
    """The client's handle on the chosen platform; optional when ``required_message`` is None.

    Its form (phone number, e-mail address, user name) is checked against the chosen platform
    by :class:`CallPlatformForm`, with the same rule the domain applies.
    """

    presence = DataRequired(required_message) if required_message else Optional()
    return StringField(label, filters=[strip_filter], validators=[
        presence,
        Length(min=2, max=64, message=_l("Please enter between 2 and 64 characters.")),
        printable_text, single_line,
    ])


def call_platform_field(label):
    """The platform the client is called on: one of those offered now (choices set per form)."""

    return RadioField(label, filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
                      validate_choice=False)


class CallPlatformForm:
    """Mixin for forms with ``call_platform`` and ``call_handle``: the offered platforms as
    choices (the first preselected), the handle checked for the chosen platform.

    ``handle_lang`` names the field holding the client's language (national phone numbers are
    read in that country); without one, the page's language.
    """

    handle_lang: str | None = None

    def __init__(self, *args, **kwargs):
        offered = platforms.enabled_platforms()
        kwargs.setdefault("call_platform", offered[0].id)
        super().__init__(*args, **kwargs)
        self.offered_platforms = offered
        self.call_platform.choices = [(entry.id, entry.name) for entry in offered]

    def chosen_platform(self):
        """The offered platform the form names (the first offered when it names none)."""
        return platforms.enabled(self.call_platform.data) or (
            None if self.call_platform.data else self.offered_platforms[0])

    def validate_call_platform(self, field):
        if self.chosen_platform() is None:
            raise ValidationError(_l("Please choose one of the offered call platforms."))

    def validate_call_handle(self, field):
        chosen = self.chosen_platform()
        if chosen is None or not field.data:
            return
        lang = getattr(self, self.handle_lang).data if self.handle_lang else select_locale()
        try:
            platforms.normalize_client_handle(chosen.id, field.data, lang)
        except platforms.HandleError as exc:
            raise ValidationError(str(exc)) from None
