"""The contact form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from reflexion.validators import call_handle_chars, printable_text, single_line, strip_filter


class ContactForm(FlaskForm):
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
        _l("Your call name (optional)"), filters=[strip_filter],
        validators=[Optional(), Length(min=2, max=64, message=_l("Please enter between 2 and 64 characters.")),
                    call_handle_chars],
    )
    message = TextAreaField(
        _l("Your message"), filters=[strip_filter],
        validators=[DataRequired(_l("Please write a message.")),
                    Length(max=4000, message=_l("Please keep your message under 4000 characters.")),
                    printable_text],
    )
