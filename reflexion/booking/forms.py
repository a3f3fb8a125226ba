"""The public booking form and the access-key form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from reflexion.validators import (
    CallPlatformForm, call_handle_field, call_platform_field, email_field, name_field, strip_filter,
)


class BookingForm(CallPlatformForm, FlaskForm):
    name = name_field(_l("Your name"), _l("Please enter your name."))
    email = email_field(_l("E-mail address"), _l("Please enter your e-mail address."))
    call_platform = call_platform_field(_l("Where should we call you?"))
    call_handle = call_handle_field(_l("Your handle on the call platform"),
                                    _l("Please enter the name under which we can call you."))
    accept_terms = BooleanField(
        _l("I accept the terms of the video call"),
        validators=[DataRequired(_l("Please confirm that you accept the terms."))],
    )
    #: Asked only when the session begins inside the 14-day withdrawal period (the view shows it
    #: then; the domain refuses such a booking without it).
    early_start = BooleanField(_l("Session within the withdrawal period"))


class AccessKeyForm(FlaskForm):
    access_key = StringField(
        _l("Access key"), filters=[strip_filter],
        validators=[DataRequired(_l("Please enter your access key.")),
                    Length(max=40, message=_l("This access key is too long."))],
    )


class LostKeyForm(FlaskForm):
    """Ask for a link to a new access key: the booking's reference and its e-mail address."""
    email = email_field(_l("E-mail address"), _l("Please enter your e-mail address."))


class NewKeyForm(FlaskForm):
    """Confirm that the old access key may stop working (a button only)."""


class RescheduleForm(FlaskForm):
    """Confirm the move to the chosen slot; ``expected_start`` is the time the page was shown with."""
    expected_start = HiddenField()


class ClientCancelForm(FlaskForm):
    """Confirm a cancellation (a button only)."""
