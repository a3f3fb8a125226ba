"""Field rules shared by the public forms (booking, contact)."""
import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

CALL_HANDLE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+,-]{1,63}$")


def call_handle_chars(form, field):
    """Letters, digits and . _ : @ + , - (Skype names, 'live:' ids, e-mail-like handles)."""
    if field.data and not CALL_HANDLE_PATTERN.match(field.data.strip()):
        raise ValidationError(_l("Please enter your call name with letters, digits and . _ - : @ + only."))


def printable_text(form, field):
    """No control characters, no invisible formatting tricks."""
    for char in field.data or "":
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Cs", "Co", "Cn"} and char not in "\n\r\t":
            raise ValidationError(_l("Please remove invisible or control characters."))


def single_line(form, field):
    if field.data and ("\n" in field.data or "\r" in field.data):
        raise ValidationError(_l("Please keep this on one line."))


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value
