"""The contact form and the withdrawal function's form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from reflexion.validators import (
    CallPlatformForm, call_handle_field, call_platform_field, email_field, name_field, printable_text, strip_filter,
)


class ContactForm(CallPlatformForm, FlaskForm):
    name = name_field(_l("Your name"), _l("Please enter your name."))
    email = email_field(_l("E-mail address"), _l("Please enter your e-mail address."))
    call_platform = call_platform_field(_l("Where should we call you?"))
    call_handle = call_handle_field(_l("Your handle on the call platform (optional)"))
    message = TextAreaField(
        _l("Your message"), filters=[strip_filter],
        validators=[DataRequired(_l("Please write a message.")),
                    Length(max=4000, message=_l("Please keep your message under 4000 characters.")),
                    printable_text],
    )


class WithdrawalForm(FlaskForm):
    """Step one and two of the withdrawal function: the same three fields (step two carries them hidden)."""

    reference = StringField(
        _l("Booking reference"), filters=[strip_filter],
        validators=[DataRequired(_l("Please enter the reference of your booking (for example R-7KQ4M2).")),
                    Length(max=64, message=_l("A booking reference is much shorter; please check it.")),
                    printable_text],
    )
    name = name_field(_l("Your name"), _l("Please enter your name."))
    email = email_field(_l("E-mail address for the acknowledgment"), _l("Please enter your e-mail address."))
