"""The operator's client-data form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from reflexion.validators import email_field


class ClientDataForm(FlaskForm):
    email = email_field(_l("Client's e-mail address"), _l("Please enter the client's e-mail address."))
