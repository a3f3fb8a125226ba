"""Forms of the statement import (operator panel)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, Length, Optional

from reflexion.payments.operations import ACTIONS
from reflexion.validators import printable_text, single_line, strip_filter


class UploadForm(FlaskForm):
    statement = FileField(_l("Statement file (camt.053 XML, ZIP or MT940)"),
                          validators=[FileRequired(_l("Please choose the statement file."))])


class EntryActionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(ACTIONS)])
    ref = StringField(_l("Booking reference"), filters=[strip_filter],
                      validators=[Optional(), Length(max=16), printable_text, single_line])
    note = StringField(_l("Note (kept with the entry)"), filters=[strip_filter],
                       validators=[Optional(), Length(max=300), printable_text, single_line])
