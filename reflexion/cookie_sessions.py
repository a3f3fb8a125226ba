"""Flask's signed-cookie sessions, with each cookie's signature checked once per process.

Every request of a logged-in operator carries the same session cookie, the panel's partial
once a second. Flask builds a serializer and checks the cookie's HMAC signature on each of
them (about a sixth of the partial's cost). Here a cookie that passed the check is kept, by
its exact text and the keys that signed it, with the time it was signed: the next request
with that cookie skips the signature but not the age check, so sessions still expire as
``PERMANENT_SESSION_LIFETIME`` says. Only cookies that verified are kept, so nothing forged
gets in; each request gets its own copy of the data. Writing a session is unchanged.
"""
import copy

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner

#: Cookies remembered per process; when full the memory starts over (each is a few hundred bytes).
MAX_REMEMBERED = 1024
#: A cookie's age is measured as Flask's serializer measures it: itsdangerous' clock (system
#: time, whole seconds), not the checked business clock, which tests freeze.
_signer_clock = TimestampSigner(b"only its clock is used").get_timestamp


class VerifiedCookieSessions(SecureCookieSessionInterface):
    def __init__(self):
        self._verified = {}  # (keys, cookie text) -> (session data, signed at: Unix seconds)

    def open_session(self, app, request):
        if not app.secret_key:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = app.permanent_session_lifetime.total_seconds()
        remembered = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), cookie)
        known = self._verified.get(remembered)
        if known is None:
            try:
                data, signed_at = self.get_signing_serializer(app).loads(
                    cookie, max_age=int(max_age), return_timestamp=True)
            except BadSignature:  # forged, expired or signed with another key: a new, empty session
                return self.session_class()
            if len(self._verified) >= MAX_REMEMBERED:
                self._verified.clear()
            known = self._verified[remembered] = (data, int(signed_at.timestamp()))
        data, signed_at = known
        if _signer_clock() - signed_at > int(max_age):  # itsdangerous' rule: older than max_age is expired
            self._verified.pop(remembered, None)
            return self.session_class()
        return self.session_class(_own_copy(data))


_IMMUTABLE = (str, bytes, int, float, bool, type(None))


def _own_copy(data: dict) -> dict:
    """A copy a request may change freely: immutable values shared, the rest copied deeply."""
    return {key: value if isinstance(value, _IMMUTABLE) else copy.deepcopy(value) for key, value in data.items()}
