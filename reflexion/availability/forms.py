"""Forms of the opening-hours editor (operator panel)."""
from babel.dates import get_day_names
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectChoice, SelectField, StringField, TimeField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from reflexion.i18n import select_locale
from reflexion.validators import plausible_day, printable_text, single_line, strip_filter


def _weekday_choices():


    names = get_day_names("wide", locale=select_locale())
    return [SelectChoice(str(day), names[day]) for day in range(7)]


class WeeklyRuleForm(FlaskForm):
    weekday = SelectField(_l("Weekday"), choices=[])
    start = TimeField(_l("From"), validators=[InputRequired(_l("Please enter when the hours begin."))])
    end = TimeField(_l("Until"), validators=[InputRequired(_l("Please enter when the hours end."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weekday.choices = _weekday_choices()

    def validate_end(self, field):
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError(_l("The end must be after the beginning."))


class ExceptionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Please enter the date.")), plausible_day])
    closed = BooleanField(_l("Closed all day"), default=True)
    # Own ids: the weekly form on the same page has fields named start and end too (its labels
    # pointed at the other form's inputs).
    start = TimeField(_l("Extra hours from"), validators=[Optional()], id="exception-start")
    end = TimeField(_l("until"), validators=[Optional()], id="exception-end")
    note = StringField(_l("Note (only for you)"), filters=[strip_filter],
                       validators=[Optional(), Length(max=200, message=_l("Please keep the note under 200 characters.")),
                                   printable_text, single_line])
    #: Set by the "close anyway" button once the operator has seen the day's bookings.
    close_despite_bookings = HiddenField(default="")

    def validate(self, extra_validators=None):
        # Not an inline validate_end: Optional() on an empty field would skip it.
        if not super().validate(extra_validators):
            return False
        if self.closed.data:
            return True
        if not self.start.data or not self.end.data:
            self.end.errors.append(_l("For extra hours, please enter from when until when."))
            return False
        if self.end.data <= self.start.data:
            self.end.errors.append(_l("The end must be after the beginning."))
            return False
        return True
