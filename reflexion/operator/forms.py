"""Operator forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, EmailField, HiddenField, PasswordField, SelectChoice, SelectField,
                     StringField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from reflexion.booking.models import DEFAULT_PAYMENT_METHOD, PAYMENT_METHODS
from reflexion.booking.payments import METHOD_LABELS
from reflexion.validators import (
    plausible_day,
    CallPlatformForm,
    call_handle_field,
    call_platform_field,
    email_field,
    name_field,
    printable_text,
    single_line,
    strip_filter,
)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Please enter your e-mail address.")),
                                                         Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password.")),
                                                         Length(max=200)])


def payment_method_choices():
    return [SelectChoice(method, METHOD_LABELS[method]) for method in PAYMENT_METHODS]


class ActionForm(FlaskForm):
    """A button that changes something: nothing but the CSRF token."""


class OperatorBookingForm(CallPlatformForm, FlaskForm):
    """Book a client who phoned or wrote: any start that overlaps no other booking."""

    handle_lang = "lang"  # a national phone number is read in the client's country

    day = DateField(_l("Date"), validators=[InputRequired(_l("Please enter the date.")), plausible_day])
    start_time = TimeField(_l("Start (practice time)"), validators=[InputRequired(_l("Please enter the start time."))])
    name = name_field(_l("Client's name"), _l("Please enter the client's name."))
    email = email_field(_l("Client's e-mail address"), _l("Please enter the client's e-mail address."))
    lang = SelectField(_l("Client's language"), choices=[SelectChoice("de", "Deutsch"), SelectChoice("sv", "Svenska")],
                       default="de")
    call_platform = call_platform_field(_l("Call platform"))
    call_handle = call_handle_field(_l("Client's handle on the platform"),
                                    _l("Please enter the name under which the client can be called."))
    paid = BooleanField(_l("The fee has been paid"))
    method = SelectField(_l("Paid by"), default=DEFAULT_PAYMENT_METHOD, choices=payment_method_choices)


class MarkPaidForm(FlaskForm):
    method = SelectField(_l("Paid by"), default=DEFAULT_PAYMENT_METHOD, choices=payment_method_choices)


class CancelForm(FlaskForm):
    note = StringField(_l("Reason (kept in the booking's history)"), filters=[strip_filter],
                       validators=[Optional(), Length(max=300, message=_l("Please keep the reason under 300 characters.")),
                                   printable_text, single_line])


class LoginCodeForm(FlaskForm):
    """The second login step: a code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code from your authenticator app, or a recovery code"), filters=[strip_filter],
                       validators=[DataRequired(_l("Please enter the code.")), Length(max=40)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(_l("Please enter your current password.")), Length(max=200)])
    new = PasswordField(_l("New password (at least 10 characters)"),
                        validators=[DataRequired(_l("Please enter the new password.")), Length(max=200)])
    repeated = PasswordField(_l("New password again"),
                             validators=[DataRequired(_l("Please enter the new password again.")), Length(max=200)])


class TwoFactorConfirmForm(FlaskForm):
    code = StringField(_l("The 6-digit code your app shows now"), filters=[strip_filter],
                       validators=[DataRequired(_l("Please enter the code.")), Length(max=20)])


class PasswordConfirmForm(FlaskForm):
    """Irreversible account actions ask for the password again."""

    password = PasswordField(_l("Your password"),
                             validators=[DataRequired(_l("Please enter your password.")), Length(max=200)])


class MoveForm(FlaskForm):
    """Move a booking: a new date and practice-time start; then a confirmation step."""

    day = DateField(_l("New date"), validators=[InputRequired(_l("Please enter the date.")), plausible_day])
    start_time = TimeField(_l("New start (practice time)"),
                           validators=[InputRequired(_l("Please enter the start time."))])
    #: The start the form was shown with (UTC slot key): a booking moved meanwhile is not moved again.
    expected_start = HiddenField()
    confirm = HiddenField()
