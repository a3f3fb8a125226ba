"""Forms of the session panel (each a CSRF-protected POST)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from reflexion.validators import printable_text, strip_filter


class VerifyForm(FlaskForm):
    """What the client reads out; compared with the stored hash, never shown or echoed."""

    confirmation = StringField(
        _l("Confirmation data as the client reads them out"), filters=[strip_filter],
        validators=[DataRequired(_l("Please type the digits the client reads out.")),
                    Length(max=40, message=_l("Confirmation data have eight digits."))],
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
