"""The public booking form and the access-key form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length

from reflexion.validators import call_handle_chars, printable_text, single_line, strip_filter


class BookingForm(FlaskForm):
    name = StringField(
        _l("Your name"), filters=[strip_filter],
        validators=[DataRequired(_l("Please enter your name.")),
                    Length(min=2, max=120, message=_l("Please enter between 2 and 120 characters.")),
                    printable_text, single_line],
    )
    email = EmailField(
        _l("E-mail address"), filters=[strip_filter],
        validators=[DataRequired(_l("Please enter your e-mail address.")),
                    Length(max=254, message=_l("This e-mail address is too long.")),
                    Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False),
                    single_line],
    )
    call_handle = StringField(
        _l("Your call name"), filters=[strip_filter],
        validators=[DataRequired(_l("Please enter the name under which we can call you.")),
                    Length(min=2, max=64, message=_l("Please enter between 2 and 64 characters.")),
                    call_handle_chars],
    )
    accept_terms = BooleanField(
        _l("I accept the terms of the video call"),
        validators=[DataRequired(_l("Please confirm that you accept the terms."))],
    )


class AccessKeyForm(FlaskForm):
    access_key = StringField(
        _l("Access key"), filters=[strip_filter],
        validators=[DataRequired(_l("Please enter your access key.")),
                    Length(max=40, message=_l("This access key is too long."))],
    )
