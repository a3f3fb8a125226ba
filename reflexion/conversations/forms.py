"""Forms of the session panel (each a CSRF-protected POST)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from reflexion.validators import printable_text, strip_filter


def eight_digits(form, field):
    """A typo (too few or too many digits, letters) is caught here and costs no verification try."""
    digits = "".join(ch for ch in field.data or "" if not ch.isspace() and ch not in "-.")
    if not (len(digits) == 8 and digits.isascii() and digits.isdigit()):
        raise ValidationError(_l("Eight digits, please: this input has not counted as a try."))


class VerifyForm(FlaskForm):
    """What the client reads out; compared with the stored hash, never shown or echoed."""

    confirmation = StringField(
        _l("Confirmation data as the client reads them out"), filters=[strip_filter],
        validators=[DataRequired(_l("Please type the digits the client reads out.")),
                    Length(max=40, message=_l("Confirmation data have eight digits.")), eight_digits],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )


class NoteForm(FlaskForm):
    """An ending with an optional note for the booking's history."""

    note = TextAreaField(
        _l("Note for the history (optional)"), filters=[strip_filter],
        validators=[Optional(), Length(max=300, message=_l("Please keep the note under 300 characters.")),
                    printable_text],
        render_kw={"rows": 2},
    )
