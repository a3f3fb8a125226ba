"""The video-call platforms the operator can ring a client on: one registry entry each.

A platform knows what a client's handle looks like there (a phone number in international
form, an e-mail address, a user name — some accept several), how to tell a client what to
enter and what to do beforehand, and, where the platform documents one, the link that starts
the call from the operator's device. Brand names are never translated.

The operator enables some of them with their own handle on each: the practice setting
``PLATFORMS`` (env ``REFLEXION_PLATFORMS="teams=kontakt@example.org,whatsapp=+4915123456789"``,
or a stored list of ``{"platform": …, "handle": …}``), read only through
:func:`enabled_platforms`. Every template, e-mail and invite names platforms from here; a test
fails on a platform name written anywhere else.

To add a platform: one more ``Platform(...)`` in ``REGISTRY`` (and its hints in the catalogs).
"""
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable
from urllib.parse import quote

import phonenumbers
from babel.lists import format_list
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reflexion.i18n import select_locale
from reflexion.settings import setting
from reflexion.settings.registry import Invalid

PHONE, EMAIL, USERNAME = "phone", "email", "username"

#: A stored handle fits the ``call_handle`` columns.
MAX_HANDLE_LENGTH = 64

#: Where a phone number given in national form (``0151 …``) is taken to be, by page language.
REGION_FOR_LANGUAGE = {"de": "DE", "sv": "SE"}


class HandleError(ValueError):
    """A handle that does not fit its platform; ``str(error)`` is the localized message."""


@dataclass(frozen=True)
class Platform:
    id: str
    name: str  # the brand, as the platform writes it; never translated
    kinds: tuple[str, ...]  # what a handle may be, in the order the hints name them
    field_hint: object  # lazy: what to enter in the handle field
    client_hint: object  # lazy, with %(handle)s: what the client does before the call
    #: A user name's form (only when USERNAME is in kinds), and the message when it does not fit.
    username_pattern: re.Pattern | None = None
    username_message: object = None
    #: The documented link that starts a call to ``handle`` (of ``kind``), or None.
    link: Callable[[str, str], str | None] = field(default=lambda handle, kind: None)

    def handle_kind(self, handle: str) -> str | None:
        """Which of this platform's kinds a normalised ``handle`` is (None: none of them)."""
        if EMAIL in self.kinds and "@" in handle:
            return EMAIL
        if PHONE in self.kinds and handle.startswith("+") and handle[1:].isdigit():
            return PHONE
        if USERNAME in self.kinds and self.username_pattern and self.username_pattern.fullmatch(handle):
            return USERNAME
        return None

    def call_link(self, handle: str | None) -> str | None:
        """The link that starts the call to the client's ``handle`` where the platform has one."""
        if not handle:
            return None
        kind = self.handle_kind(handle)
        return self.link(handle, kind) if kind else None


def _teams_link(handle, kind):
    # learn.microsoft.com, "Deep link to start an audio-video call": users are Entra user
    # principal names (e-mail addresses); the https form opens the installed app.
    if kind == EMAIL:
        return f"https://teams.microsoft.com/l/call/0/0?users={quote(handle, safe='@')}&withVideo=true"
    return None


def _whatsapp_link(handle, kind):
    # WhatsApp's "click to chat": https://wa.me/<number in international form, digits only>
    return f"https://wa.me/{handle[1:]}" if kind == PHONE else None


def _signal_link(handle, kind):
    # Signal's phone-number link https://signal.me/#p/<E.164> (user names need an encrypted link)
    return f"https://signal.me/#p/{handle}" if kind == PHONE else None


def _facetime_link(handle, kind):
    # Apple's URL scheme reference: facetime:<phone number or Apple ID e-mail address>
    return f"facetime:{quote(handle, safe='@+')}" if kind in (PHONE, EMAIL) else None


def _telegram_link(handle, kind):
    # Telegram's deep links: t.me/<username> and t.me/+<phone number>
    if kind == USERNAME:
        return f"https://t.me/{handle.lstrip('@')}"
    return f"https://t.me/{handle}" if kind == PHONE else None


#: Every platform the product knows, in the order the booking form offers them.
REGISTRY: dict[str, Platform] = {p.id: p for p in (
    Platform(
        "teams", "Microsoft Teams", (EMAIL, PHONE),
        field_hint=_l("The e-mail address or phone number of your Microsoft account, as you sign in to Teams."),
        client_hint=_l("Install the Teams app (the free version is enough), sign in with your Microsoft "
                       "account and add %(handle)s to your contacts."),
        link=_teams_link,
    ),
    Platform(
        "zoom", "Zoom", (EMAIL,),
        field_hint=_l("The e-mail address you sign in to Zoom with."),
        client_hint=_l("Install the Zoom app, sign in and add %(handle)s to your contacts."),
    ),
    Platform(
        "whatsapp", "WhatsApp", (PHONE,),
        field_hint=_l("The mobile number you use WhatsApp with, for example 0151 23456789 or +46 70 123 45 67."),
        client_hint=_l("Install WhatsApp on your phone, sign in with your number and save %(handle)s in "
                       "your phone's contacts."),
        link=_whatsapp_link,
    ),
    Platform(
        "signal", "Signal", (PHONE, USERNAME),
        field_hint=_l("The mobile number you use Signal with, or your Signal user name (such as erika.42)."),
        client_hint=_l("Install Signal, sign in and add %(handle)s to your contacts."),
        # Signal user names: a nickname of 3–32 letters, digits or _, a dot, then at least 2 digits
        username_pattern=re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,31}\.[0-9]{2,9}"),
        username_message=_l("A Signal user name has a dot and at least two digits at the end, such as erika.42."),
        link=_signal_link,
    ),
    Platform(
        "facetime", "FaceTime", (PHONE, EMAIL),
        field_hint=_l("The phone number or the e-mail address of your Apple account that FaceTime uses."),
        client_hint=_l("FaceTime needs an Apple device: turn FaceTime on in the settings and add %(handle)s "
                       "to your contacts."),
        link=_facetime_link,
    ),
    Platform(
        "meet", "Google Meet", (EMAIL,),
        field_hint=_l("The e-mail address of your Google account."),
        client_hint=_l("Install the Google Meet app or open Meet in your browser, sign in with your Google "
                       "account and add %(handle)s to your contacts."),
    ),
    Platform(
        "telegram", "Telegram", (USERNAME, PHONE),
        field_hint=_l("Your Telegram user name (such as @erika_muster) or the mobile number you use Telegram with."),
        client_hint=_l("Install Telegram, sign in and add %(handle)s to your contacts."),
        # Telegram user names: 5–32 letters, digits and _, starting with a letter
        username_pattern=re.compile(r"@?[A-Za-z][A-Za-z0-9_]{4,31}"),
        username_message=_l("A Telegram user name has 5 to 32 letters, digits or _ and starts with a letter."),
        link=_telegram_link,
    ),
)}

#: A new install offers Microsoft Teams (Skype's successor); bookings from before platforms existed are on it.
DEFAULT_PLATFORM = "teams"


def get(platform_id: str | None) -> Platform | None:
    return REGISTRY.get((platform_id or "").strip().lower())


def display_name(platform_id: str | None) -> str:
    """The platform's brand name (an unknown id as it is: old data is still shown)."""
    platform = get(platform_id)
    return platform.name if platform else (platform_id or "")


# -- handles -----------------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"[0-9+()./\s-]+")


def _phone(raw: str, lang: str | None) -> str:
    region = REGION_FOR_LANGUAGE.get(lang or "", "DE")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise HandleError(_("This is not a valid phone number. Please enter it with its country code, "
                            "for example +49 151 23456789 or +46 70 123 45 67."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(raw: str) -> str:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        raise HandleError(_("Please enter a valid e-mail address.")) from None


def _kinds_message(platform: Platform) -> str:
    names = {
        (EMAIL,): _("On %(platform)s we call you at an e-mail address. Please enter yours."),
        (PHONE,): _("On %(platform)s we call you at a phone number. Please enter yours with its country code."),
    }
    message = names.get(platform.kinds)
    if message is None:
        message = _("Please enter a handle that %(platform)s accepts: %(hint)s")
    return message % {"platform": platform.name, "hint": platform.field_hint}


def normalize_client_handle(platform_id: str, raw: str | None, lang: str | None = None) -> str:
    """Check ``raw`` as a handle on the platform and return its stored form.

    Phone numbers become E.164 (``+4915123456789``; a national number is read in the country of
    ``lang``: German → DE, Swedish → SE), e-mail addresses are normalised, user names kept as
    given. Raises :class:`HandleError` with a localized message.
    """
    platform = get(platform_id)
    if platform is None:
        raise HandleError(_("Please choose one of the offered call platforms."))
    value = (raw or "").strip()
    if not value:
        raise HandleError(_("Please enter your handle on %(platform)s, so that we can call you.",
                            platform=platform.name))
    if len(value) > MAX_HANDLE_LENGTH or any(not ch.isprintable() for ch in value):
        raise HandleError(_("Please enter at most %(count)s characters on one line.", count=MAX_HANDLE_LENGTH))
    if "@" in value and EMAIL in platform.kinds and not (USERNAME in platform.kinds and value.startswith("@")):
        handle = _email(value)
    elif PHONE in platform.kinds and _PHONE_CHARS.fullmatch(value) and any(ch.isdigit() for ch in value):
        handle = _phone(value, lang or select_locale())
    elif USERNAME in platform.kinds and platform.username_pattern.fullmatch(value):
        handle = "@" + value.lstrip("@") if platform.username_pattern.pattern.startswith("@?") else value
    elif USERNAME in platform.kinds and not ("@" in value[1:]) and not _PHONE_CHARS.fullmatch(value):
        raise HandleError(str(platform.username_message))
    else:
        raise HandleError(_kinds_message(platform))
    if len(handle) > MAX_HANDLE_LENGTH:
        raise HandleError(_("Please enter at most %(count)s characters on one line.", count=MAX_HANDLE_LENGTH))
    return handle


# -- the operator's choice: the PLATFORMS setting ----------------------------------------------

@dataclass(frozen=True)
class Enabled:
    """A platform the operator offers, with the operator's own handle on it."""
    platform: Platform
    handle: str

    @property
    def id(self) -> str:
        return self.platform.id

    @property
    def name(self) -> str:
        return self.platform.name

    def client_hint(self) -> str:
        return str(self.platform.client_hint) % {"handle": self.handle}


def _entries(value) -> list[tuple[str, str]]:
    """(platform id, handle) pairs from the env string or a stored list of mappings."""
    if value is None:
        return []
    if isinstance(value, str):
        pairs = []
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            platform_id, sep, handle = item.partition("=")
            if not sep:
                raise ValueError(_("Please write each platform as platform=handle (for example "
                                   "%(example)s).", example="teams=kontakt@example.org"))
            pairs.append((platform_id.strip().lower(), handle.strip()))
        return pairs
    pairs = []
    for entry in value:
        if not isinstance(entry, dict):
            raise ValueError(_("Please write each platform as platform=handle (for example "
                               "%(example)s).", example="teams=kontakt@example.org"))
        pairs.append((str(entry.get("platform", "")).strip().lower(), str(entry.get("handle", "")).strip()))
    return pairs


def validate_enabled(value) -> list[dict]:
    """Check a PLATFORMS value; return it as ``[{"platform", "handle"}]`` with normalised handles.

    Raises ValueError with a localized message: an unknown platform, a platform given twice, an
    operator handle that does not fit its platform, or no platform at all.
    """
    result, seen = [], set()
    for platform_id, handle in _entries(value):
        platform = get(platform_id)
        if platform is None:
            raise ValueError(_("Unknown call platform “%(name)s”. Known: %(known)s.",
                               name=platform_id, known=", ".join(REGISTRY)))
        if platform.id in seen:
            raise ValueError(_("%(platform)s is listed twice.", platform=platform.name))
        seen.add(platform.id)
        try:
            # The operator's number is written in international form; a national one is read as German.
            normalized = normalize_client_handle(platform.id, handle, "de")
        except HandleError as exc:
            raise ValueError(_("Your handle on %(platform)s: %(problem)s", platform=platform.name,
                               problem=str(exc))) from None
        result.append({"platform": platform.id, "handle": normalized})
    if not result:
        raise ValueError(_("Please enable at least one call platform."))
    return result


def _freeze(value):
    if isinstance(value, str) or value is None:
        return value
    return tuple((str(e.get("platform", "")), str(e.get("handle", ""))) if isinstance(e, dict) else e
                 for e in value)


@lru_cache(maxsize=32)
def _parsed(frozen) -> tuple[Enabled, ...]:
    value = frozen if isinstance(frozen, str) or frozen is None else [
        {"platform": p, "handle": h} for p, h in frozen]
    return tuple(Enabled(REGISTRY[e["platform"]], e["handle"]) for e in validate_enabled(value))


def enabled_platforms() -> tuple[Enabled, ...]:
    """The platforms the operator offers now, in their order (the first is the default)."""
    return _parsed(_freeze(setting("PLATFORMS")))


def enabled(platform_id: str | None) -> Enabled | None:
    """The enabled platform ``platform_id`` with the operator's handle, or None."""
    for entry in enabled_platforms():
        if entry.id == platform_id:
            return entry
    return None


def default_platform() -> str:
    return enabled_platforms()[0].id


def names_of_enabled(lang: str | None = None) -> str:
    """The enabled platforms' names as a phrase: "Microsoft Teams, WhatsApp or Signal"."""
    names = [entry.name for entry in enabled_platforms()]
    return format_list(names, style="or", locale=lang or select_locale())


def check_offered(platform_id: str | None) -> Enabled:
    """The enabled platform a client chose; HandleError when it is not offered (now)."""
    entry = enabled((platform_id or "").strip().lower())
    if entry is None:
        raise HandleError(_("Please choose one of the offered call platforms."))
    return entry


# -- a booking's platform ----------------------------------------------------------------------

@dataclass(frozen=True)
class BookedCall:
    """What pages, e-mails and invites say about one booking's call."""
    platform_id: str
    name: str
    operator_handle: str | None  # who calls: the operator's handle on the booked platform
    client_handle: str
    call_link: str | None

    def client_hint(self) -> str | None:
        platform = get(self.platform_id)
        if platform is None or not self.operator_handle:
            return None
        return str(platform.client_hint) % {"handle": self.operator_handle}


def booked_call(booking) -> BookedCall:
    """The booked platform (kept even when the operator no longer offers it) and both handles.

    The operator's handle is today's on that platform when it is still enabled (a corrected
    handle reaches every booking), else the one recorded when the booking was made.
    """
    platform_id = booking.call_platform or DEFAULT_PLATFORM
    entry = enabled(platform_id)
    operator_handle = entry.handle if entry else getattr(booking, "operator_handle", None)
    platform = get(platform_id)
    return BookedCall(
        platform_id=platform_id,
        name=display_name(platform_id),
        operator_handle=operator_handle,
        client_handle=booking.call_handle,
        call_link=platform.call_link(booking.call_handle) if platform else None,
    )


def settings_rule(entries) -> list[dict]:
    """The PLATFORMS setting's check for the settings store (its message shown to the operator)."""
    try:
        return validate_enabled(entries)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


#: Where a long call handle may wrap on a narrow screen: before "@", "." and "/" (so a line
#: never starts or ends in the middle of a name), and after a space (phone numbers).
_HANDLE_BREAK = re.compile(r"(?<=\S)(?=[@./])|(?<= )")
#: A part longer than this may still break inside it, rather than run off a phone's screen.
LONGEST_UNBROKEN_PART = 24


def handle_parts(handle: str | None) -> list[str]:
    """Split ``handle`` at the points where it may wrap: "erika.muster@example.org" ->
    ["erika", ".muster", "@example", ".org"]. Joined they give the handle back unchanged; a page
    shows each part unbroken, with a wrap opportunity between them (templates/operator/_handle.html)."""
    if not handle:
        return []
    return [part for part in _HANDLE_BREAK.split(handle) if part]
