"""Every setting the operator may change: its kind, group, label, help and validation (pure).

One :class:`Key` per editable setting. ``parse(text)`` turns what a form field or the command
line gives into the stored value (the same type ``app.config`` holds, so readers never care
where a value came from) and raises :class:`Invalid` with a localized message. Rules that
involve several keys (notice shorter than the horizon …) are :data:`CROSS_CHECKS`, run on the
merged values of a whole submit.

``PLATFORMS`` is a structured key (a list of ``{"platform": id, "handle": str}``); its shape is
checked here, the platforms' own rules plug in with :func:`replace_rules`.
"""
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any, Callable

from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale, lazy_gettext as _l


def format_number(value) -> str:
    """45.0 -> "45"; fractions as the locale writes them ("0,5" in German)."""

    value = float(value)
    return str(int(value)) if value.is_integer() else format_decimal(value, locale=str(get_locale() or "de"))


class Invalid(ValueError):
    """A value that cannot be stored; ``message`` is shown to the operator (localized)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


#: The groups of the settings page, in order: (id, label).
GROUPS = (
    ("practice", _l("Practice and contact")),
    ("legal", _l("Legal identity")),
    ("money", _l("Fee and bank account")),
    ("booking", _l("Booking rules")),
    ("changes", _l("Changing bookings and refunds")),
    ("retention", _l("Retention")),
    ("mail", _l("E-mail and notices")),
)


@dataclass
class Key:
    """One editable setting."""

    key: str
    kind: str                 # text, multiline, email, sender, money, choice, number, integer, percent, iban, bic, list, platforms
    group: str
    label: Any
    help: Any = ""
    parse: Callable[[str], Any] = None       # form/CLI text -> stored value (raises Invalid)
    to_text: Callable[[Any], str] = None     # stored value -> form/CLI text
    choices: tuple = ()       # (value, label) for kind "choice"
    unit: Any = ""            # shown after a number field
    panel: bool = True        # edited on the settings page (else command line only)
    secret: bool = False      # audit keeps no readable copy (tokens inside URLs)
    optional: bool = False    # may be empty
    extra: dict = field(default_factory=dict)

    def text(self, value) -> str:
        return self.to_text(value) if self.to_text else ("" if value is None else str(value))


# --- parsers -----------------------------------------------------------------------------

def _strip(text) -> str:
    return ("" if text is None else str(text)).strip()


def _no_control(text):
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise Invalid(_l("Please remove the control characters."))


def text_parser(max_length=120, optional=False, multiline=False):
    def parse(raw):
        text = _strip(raw).replace("\r\n", "\n")
        if not text:
            if optional:
                return ""
            raise Invalid(_l("Please fill in this field."))
        _no_control(text)
        if not multiline and "\n" in text:
            raise Invalid(_l("Please write this on one line."))
        if multiline:
            text = "\n".join(line.strip() for line in text.split("\n") if line.strip())
        if len(text) > max_length:
            raise Invalid(_l("Please keep this under %(n)d characters.", n=max_length))
        return text
    return parse


_EMAIL_MESSAGE = _l("Please enter a valid e-mail address.")


def _check_email(address: str) -> str:

    if len(address) > 254 or "\n" in address:
        raise Invalid(_EMAIL_MESSAGE)
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid(_EMAIL_MESSAGE) from None


def email_parser(optional=False):
    def parse(raw):
        text = _strip(raw)
        if not text:
            if optional:
                return None
            raise Invalid(_l("Please enter an e-mail address."))
        return _check_email(text)
    return parse


#: Values of the notice address that switch the operator's e-mail notices off.
NOTICES_OFF = frozenset({"off", "none", "no", "0", "-"})


def parse_notice_address(raw):
    """Empty: the contact e-mail (``None``); "off": no e-mail notices; else an address."""
    text = _strip(raw)
    if not text:
        return None
    if text.lower() in NOTICES_OFF:
        return "off"
    return _check_email(text)


def legal_text_parser(max_length=20000):
    """The operator's own text of a legal page: plain text, paragraphs kept (empty: the built-in text)."""
    def parse(raw):
        text = ("" if raw is None else str(raw)).replace("\r\n", "\n").replace("\r", "\n").strip()
        if not text:
            return ""
        _no_control(text)
        if len(text) > max_length:
            raise Invalid(_l("Please keep this under %(n)d characters.", n=max_length))
        return "\n".join(line.rstrip() for line in text.split("\n"))
    return parse


def parse_sender(raw):
    """``Name <address>`` or a bare address, as mail headers take it."""
    text = _strip(raw)
    if not text:
        raise Invalid(_l("Please enter an e-mail address."))
    name, address = parseaddr(text)
    if not address or "@" not in address:
        raise Invalid(_EMAIL_MESSAGE)
    address = _check_email(address)
    _no_control(name)
    if len(name) > 70:
        raise Invalid(_l("Please keep this under %(n)d characters.", n=70))
    # Address keeps a non-ASCII name readable (formataddr would write RFC 2047 words) and quotes where needed
    return str(Address(display_name=name, addr_spec=address)) if name else address


def _decimal(raw) -> Decimal:
    text = _strip(raw).replace(" ", "").replace("\u00a0", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # German and Swedish write 90,00
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        raise Invalid(_l("Please enter a number."))
    try:
        return Decimal(text)
    except InvalidOperation:
        raise Invalid(_l("Please enter a number.")) from None


def parse_money(raw) -> str:
    amount = _decimal(raw)
    if amount < 0:
        raise Invalid(_l("The fee cannot be negative."))
    if amount.as_tuple().exponent < -2:
        raise Invalid(_l("Please give the amount with at most two decimals."))
    if amount > Decimal("999999.99"):
        raise Invalid(_l("This amount is too large."))
    return f"{amount:.2f}"


def number_parser(minimum=0.0, maximum=None, positive=False):
    """A float (minutes, hours): fractions allowed."""
    def parse(raw):
        value = float(_decimal(raw))
        if positive and value <= 0:
            raise Invalid(_l("Please enter a number greater than 0."))
        if value < minimum:
            raise Invalid(_l("Please enter a number of at least %(min)s.", min=format_number(minimum)))
        if maximum is not None and value > maximum:
            raise Invalid(_l("Please enter a number of at most %(max)s.", max=format_number(maximum)))
        return value
    return parse


def integer_parser(minimum=0, maximum=None):
    def parse(raw):
        number = _decimal(raw)
        if number != number.to_integral_value():
            raise Invalid(_l("Please enter a whole number."))
        value = int(number)
        if value < minimum:
            raise Invalid(_l("Please enter a number of at least %(min)s.", min=minimum))
        if maximum is not None and value > maximum:
            raise Invalid(_l("Please enter a number of at most %(max)s.", max=maximum))
        return value
    return parse


def parse_percent_text(raw) -> str:
    """A VAT rate as ``app.config`` keeps it: a decimal string, 0–100."""
    value = _decimal(raw)
    if not 0 <= value <= 100:
        raise Invalid(_l("Please enter a percentage between 0 and 100."))
    return format(value.normalize(), "f")


def choice_parser(choices):
    def parse(raw):
        text = _strip(raw)
        allowed = [value for value, _label in choices]
        if text not in allowed:
            upper = text.upper()
            if upper in allowed:
                return upper
            raise Invalid(_l("Please choose one of: %(choices)s.", choices=", ".join(allowed)))
        return text
    return parse


def parse_iban(raw) -> str:
    # inside: schwifty loads its bank registry on import (0.1 s); only the settings need it
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    text = _strip(raw)
    if not text:
        raise Invalid(_l("Please enter the IBAN."))
    try:
        return IBAN(text).formatted
    except SchwiftyException:
        raise Invalid(_l("This IBAN is not valid: please check it (country, check digits, length).")) from None


def parse_bic(raw) -> str:
    # inside: see parse_iban
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    text = _strip(raw)
    if not text:
        return ""
    try:
        return BIC(text).compact
    except SchwiftyException:
        raise Invalid(_l("This BIC is not valid: 8 or 11 letters and digits, e.g. BYLADEM1001.")) from None


def _items(raw):
    """Entries one per line (the form), else comma-separated (the environment's form)."""
    if isinstance(raw, (list, tuple)):
        return [_strip(item) for item in raw if _strip(item)]
    text = _strip(raw)
    return [item.strip() for item in text.split("\n" if "\n" in text else ",") if item.strip()]


def parse_notice_urls(raw) -> list[str]:
    urls = _items(raw)
    for url in urls:
        if not re.fullmatch(r"[a-z][a-z0-9+.-]*://\S+", url, re.IGNORECASE) or len(url) > 500:
            raise Invalid(_l("“%(url)s” is not a notification URL (scheme://…).", url=url[:40]))
    if len(urls) > 10:
        raise Invalid(_l("At most %(n)d entries, please.", n=10))
    return urls


def list_text(value) -> str:
    return "\n".join(value or [])


# --- PLATFORMS: the shape here, the platforms' own rules from reflexion/platforms ----------

def parse_platforms_text(raw) -> list[dict]:
    """``teams=handle,whatsapp=+49…`` (the environment's form) or an already structured list."""
    if isinstance(raw, list):
        entries = raw
    else:
        entries = []
        for item in _items(raw):
            platform, sep, handle = item.partition("=")
            if not sep or not platform.strip() or not handle.strip():
                raise Invalid(_l("Write each platform as platform=your handle, e.g. teams=you@example.org."))
            entries.append({"platform": platform.strip().lower(), "handle": handle.strip()})
    return validate_platforms(entries)


def check_platforms_shape(entries) -> list[dict]:
    """A list of ``{"platform": id, "handle": str}``, at least one, each platform once."""
    if not isinstance(entries, list) or not entries:
        raise Invalid(_l("Please offer at least one call platform."))
    seen = set()
    clean = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"platform", "handle"}:
            raise Invalid(_l("Write each platform as platform=your handle, e.g. teams=you@example.org."))
        platform, handle = _strip(entry["platform"]).lower(), _strip(entry["handle"])
        if not re.fullmatch(r"[a-z][a-z0-9_-]{1,31}", platform) or not handle or len(handle) > 120:
            raise Invalid(_l("Write each platform as platform=your handle, e.g. teams=you@example.org."))
        if platform in seen:
            raise Invalid(_l("Each platform only once, please."))
        seen.add(platform)
        clean.append({"platform": platform, "handle": handle})
    return clean


#: The hook: ``reflexion/platforms`` swaps in its validator (known platforms, handle formats)
#: with ``replace_rules("PLATFORMS", validate=...)``; it gets and returns the structured list.
_platform_rules = {"validate": check_platforms_shape}


def validate_platforms(entries) -> list[dict]:
    return _platform_rules["validate"](entries)


def platforms_text(value) -> str:
    if isinstance(value, str):
        return value
    return ", ".join(f"{e['platform']}={e['handle']}" for e in value or [])


# --- the keys ------------------------------------------------------------------------------

_CURRENCIES = (("EUR", "EUR (€)"), ("SEK", "SEK (kr)"))
_VAT_MODES = (("small_business", _l("Small business (§ 19 UStG), no VAT shown")),
              ("standard", _l("Standard: VAT shown on receipts")))
_HOURS, _MINUTES, _DAYS = _l("hours"), _l("minutes"), _l("days")


def _number_text(value) -> str:
    return format_number(value) if value not in (None, "") else ""


def _keys() -> list[Key]:
    text, multiline = text_parser, (lambda n: text_parser(n, multiline=True))
    hours = dict(kind="number", to_text=_number_text, unit=_HOURS)
    return [
        # Practice and contact
        Key("BRAND", "text", "practice", _l("Name of the practice (brand)"),
            _l("Shown in every page's header, e-mails and invites."), parse=text(80)),
        Key("OPERATOR_NAME", "text", "practice", _l("Practitioner's name"),
            _l("The person responsible (legal notice, invites)."), parse=text(120)),
        Key("CONTACT_EMAIL", "email", "practice", _l("Contact e-mail address"),
            _l("Shown on the site; default address for notices."), parse=email_parser()),
        Key("CONTACT_PHONE", "text", "practice", _l("Contact phone"), _l("Shown on the site; may be empty."),
            parse=text(40, optional=True), optional=True),
        # Legal identity
        Key("POSTAL_ADDRESS", "multiline", "legal", _l("Postal address"),
            _l("For the legal notice and receipts; one line per line of the address."), parse=multiline(300)),
        Key("VAT_MODE", "choice", "legal", _l("VAT"), parse=choice_parser(_VAT_MODES), choices=_VAT_MODES),
        Key("VAT_RATE_PERCENT", "percent", "legal", _l("VAT rate"), _l("Used only with standard VAT."),
            parse=parse_percent_text, unit="%"),
        Key("VAT_ID", "text", "legal", _l("VAT identification number"), _l("May be empty."),
            parse=text(20, optional=True), optional=True),
        Key("TAX_NUMBER", "text", "legal", _l("Tax number"), _l("May be empty."),
            parse=text(30, optional=True), optional=True),
        *(Key(f"{page}_TEXT_{lang.upper()}", "legaltext", "legal", label, _l(
            "Empty: the built-in text. Plain text: an empty line starts a paragraph, # a heading, - a list item."),
            parse=legal_text_parser(), optional=True, extra={"lang": lang})
          for page, lang, label in (
              ("IMPRINT", "de", _l("Your own legal notice, German")),
              ("IMPRINT", "sv", _l("Your own legal notice, Swedish")),
              ("PRIVACY", "de", _l("Your own privacy notice, German")),
              ("PRIVACY", "sv", _l("Your own privacy notice, Swedish")),
              ("TERMS", "de", _l("Your own terms, German")),
              ("TERMS", "sv", _l("Your own terms, Swedish")))),
        # Fee and bank account
        Key("FEE_AMOUNT", "money", "money", _l("Fee per session"),
            _l("Applies to bookings made from now on; bookings already made keep their fee."), parse=parse_money),
        Key("CURRENCY", "choice", "money", _l("Currency"), parse=choice_parser(_CURRENCIES), choices=_CURRENCIES),
        Key("BANK_ACCOUNT_HOLDER", "text", "money", _l("Account holder"), parse=text(70)),
        Key("BANK_IBAN", "iban", "money", _l("IBAN"), parse=parse_iban),
        Key("BANK_BIC", "bic", "money", _l("BIC"), _l("May be empty for transfers within the SEPA area."),
            parse=parse_bic, optional=True),
        # Booking rules
        Key("SESSION_MINUTES", "number", "booking", _l("Session length"),
            _l("Part of the terms: a change starts a new terms version and applies to new bookings only."),
            parse=number_parser(positive=True, maximum=480), to_text=_number_text, unit=_MINUTES),
        Key("NO_ANSWER_MINUTES", "number", "booking", _l("No-answer window"),
            _l("Not answered this long after the start: the session counts as consumed. Part of the terms, like the length."),
            parse=number_parser(positive=True, maximum=480), to_text=_number_text, unit=_MINUTES),
        Key("BUFFER_MINUTES", "number", "booking", _l("Free time after each session"),
            parse=number_parser(maximum=1440), to_text=_number_text, unit=_MINUTES),
        Key("MIN_NOTICE_HOURS", label=_l("Minimum notice"), group="booking",
            help=_l("Clients book at least this long ahead."), parse=number_parser(maximum=8760), **hours),
        Key("HORIZON_DAYS", "integer", "booking", _l("Booking horizon"), _l("Clients book at most this far ahead."),
            parse=integer_parser(1, 730), unit=_DAYS),
        Key("PAYMENT_WINDOW_HOURS", label=_l("Payment window"), group="booking",
            help=_l("Unpaid bookings lapse this long after booking …"), parse=number_parser(positive=True, maximum=8760),
            **hours),
        Key("PAYMENT_CUTOFF_HOURS", label=_l("Payment cut-off"), group="booking",
            help=_l("… but at the latest this long before the start."), parse=number_parser(maximum=8760), **hours),
        Key("REMINDER_HOURS", label=_l("Reminder"), group="booking",
            help=_l("The reminder e-mail goes out this long before the start."), parse=number_parser(maximum=720),
            **hours),
        Key("TERMS_VERSION", "text", "booking", _l("Terms version"),
            _l("Changes by itself when the session length or the no-answer window changes."),
            parse=text(32), panel=False),
        # Changing bookings and refunds
        Key("CHANGE_CUTOFF_HOURS", label=_l("Changes allowed until"), group="changes",
            help=_l("Clients reschedule or cancel until this long before the start."),
            parse=number_parser(maximum=8760), **hours),
        Key("MAX_RESCHEDULES", "integer", "changes", _l("Reschedules per booking"), parse=integer_parser(0, 20)),
        Key("REFUND_PERCENT_BEFORE_CUTOFF", "integer", "changes", _l("Refund when cancelled in time"),
            _l("Percent of the fee refunded when the client cancels before the cut-off."),
            parse=integer_parser(0, 100), unit="%"),
        Key("REFUND_PERCENT_AFTER_CUTOFF", "integer", "changes", _l("Refund when cancelled late"),
            _l("Percent of the fee refunded when the client cancels after the cut-off."),
            parse=integer_parser(0, 100), unit="%"),
        # Retention
        Key("RETENTION_DAYS", "integer", "retention", _l("Booking data kept for"),
            _l("Personal data of finished bookings is made anonymous after this many days."),
            parse=integer_parser(1, 3650), unit=_DAYS),
        Key("MESSAGE_RETENTION_DAYS", "integer", "retention", _l("Contact messages kept for"),
            parse=integer_parser(1, 3650), unit=_DAYS),
        # E-mail and notices
        Key("MAIL_DEFAULT_SENDER", "sender", "mail", _l("E-mail sender"),
            _l("Name and address e-mails come from, e.g. Internet Reflexion <no-reply@example.org>."),
            parse=parse_sender),
        Key("MAIL_OPERATOR_NOTICE", "email", "mail", _l("Address for notices to you"),
            _l("Empty: the contact e-mail address; off: no notices by e-mail."), parse=parse_notice_address,
            optional=True),
        Key("NOTICE_URLS", "list", "mail", _l("Push notices (notification URLs)"),
            _l("One per line, e.g. ntfy://ntfy.sh/your-topic; may be empty."),
            parse=parse_notice_urls, to_text=list_text, optional=True, secret=True),
        Key("PLATFORMS", "platforms", "practice", _l("Call platforms"),
            _l("platform=your handle, comma-separated, e.g. teams=you@example.org."),
            parse=parse_platforms_text, to_text=platforms_text),
    ]


KEYS: dict[str, Key] = {k.key: k for k in _keys()}


def replace_rules(key: str, *, parse=None, validate=None, to_text=None):
    """Swap a key's rules (``reflexion/platforms`` for ``PLATFORMS``)."""
    entry = KEYS[key]
    if key == "PLATFORMS" and validate is not None:
        _platform_rules["validate"] = validate
    if parse is not None:
        entry.parse = parse
    if to_text is not None:
        entry.to_text = to_text


def from_config(key: str, value):
    """A value as ``app.config`` holds it, in the stored shape (only ``PLATFORMS`` differs)."""
    if key == "PLATFORMS" and isinstance(value, str):
        return parse_platforms_text(value)
    return value


# --- rules across keys (run on the merged values of one submit) ---------------------------

def _hours(value) -> float:
    return float(value or 0)


def _cross_checks(values) -> dict[str, Any]:
    errors = {}
    if _hours(values["MIN_NOTICE_HOURS"]) >= int(values["HORIZON_DAYS"]) * 24:
        errors["MIN_NOTICE_HOURS"] = _l("The minimum notice must be shorter than the booking horizon.")
    if _hours(values["PAYMENT_CUTOFF_HOURS"]) >= _hours(values["PAYMENT_WINDOW_HOURS"]):
        errors["PAYMENT_CUTOFF_HOURS"] = _l("The payment cut-off must be shorter than the payment window.")
    if float(values["NO_ANSWER_MINUTES"]) >= float(values["SESSION_MINUTES"]):
        errors["NO_ANSWER_MINUTES"] = _l("The no-answer window must be shorter than the session.")
    if int(values["REFUND_PERCENT_AFTER_CUTOFF"]) > int(values["REFUND_PERCENT_BEFORE_CUTOFF"]):
        errors["REFUND_PERCENT_AFTER_CUTOFF"] = _l("A late cancellation cannot get more back than one in time.")
    return errors


CROSS_CHECKS = _cross_checks
