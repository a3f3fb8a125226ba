"""Operator accounts and login: scrypt-hashed passwords, expiring sessions, htmx-aware redirects."""
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, logout_user
from sqlalchemy import bindparam, func, select, update

from reflexion import clock
from reflexion.extensions import db, htmx, login_manager
from reflexion.i18n import best_language
from reflexion.operator.models import Operator

login_manager.login_view = "operator.login"
login_manager.login_message = _l("Please log in to use the operator panel.")
login_manager.login_message_category = "info"
# "basic": a changed IP or browser marks the login stale without rewriting every anonymous
# visitor's session ("strong" would clear and re-send cookies on each public page).
login_manager.session_protection = "basic"

#: Session key: when the operator logged in (the session ends this long after, active or not).
LOGIN_AT = "operator_login_at"
GENERATION = "operator_session_generation"
DEFAULT_MAX_SESSION_HOURS = 12


@login_manager.unauthorized_handler
def unauthorized():
    """Full pages go to the login form; htmx partials tell the browser to go there (no login form
    swapped into a countdown)."""

    target = url_for("operator.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(target)


def start_operator_session(operator=None):
    """Remember when this login began (see :func:`session_expired`) and in which generation."""
    session[LOGIN_AT] = clock.now().isoformat()
    if operator is not None:
        session[GENERATION] = operator.session_generation or 0


def revoke_sessions(operator_id: int):
    """End every session of this operator, in every browser (logout, "log out everywhere")."""
    db.session.execute(update(Operator).where(Operator.id == operator_id)
                       .values(session_generation=Operator.session_generation + 1))
    forget_identities()  # other processes notice within IDENTITY_TTL_SECONDS


def session_revoked() -> bool:
    return session.get(GENERATION) != getattr(current_user, "session_generation", None)


def session_expired() -> bool:
    """Operator sessions end ``OPERATOR_SESSION_MAX_HOURS`` (12) after login, however busy the panel is.

    The cookie's own lifetime (``PERMANENT_SESSION_LIFETIME``, 8 h) counts from its last change,
    and every action's message changes it; this is the hard limit on top.
    """
    started = session.get(LOGIN_AT)
    if not started:
        return True
    try:
        started_at = datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return True
    hours = float(current_app.config.get("OPERATOR_SESSION_MAX_HOURS", DEFAULT_MAX_SESSION_HOURS))
    return clock.now() - started_at > timedelta(hours=hours)


#: The second login step (code from the authenticator app) waits this long after the password.
PENDING_LOGIN = "operator_pending_login"
PENDING_LOGIN_MINUTES = 5


def guard_operator_request(public_endpoints=("operator.login", "operator.login_code")):
    """``before_request`` of every operator blueprint: the browser's language (German by default,
    Swedish for a Swedish browser), login required, sessions expire."""
    g.lang = best_language()
    if request.endpoint in public_endpoints:
        return None
    if current_user.is_authenticated and (session_expired() or session_revoked()):
        logout_user()
        session.clear()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def safe_next(target: str | None) -> str | None:
    """Accept only a local operator path as the page to return to after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/operator/") or "\\" in target:
        return None
    return target.rstrip("?")


class OperatorIdentity(UserMixin):
    """Who is logged in, as the request needs it (``current_user``): id and e-mail, no ORM object.

    Loaded on every request, including the panel's partial polled every second, so it is one
    narrow primary-key query. Code that changes the account loads the :class:`Operator`.
    """

    def __init__(self, operator_id: int, email: str, generation: int = 0, two_factor: bool = False):
        self.id, self.email, self.session_generation = operator_id, email, generation
        self.has_two_factor = two_factor

    def __repr__(self):
        return f"<OperatorIdentity {self.id}>"


_IDENTITY_QUERY = select(Operator.__table__.c.id, Operator.__table__.c.email,
                         Operator.__table__.c.session_generation,
                         Operator.__table__.c.totp_secret.isnot(None).label("two_factor")).where(
    Operator.__table__.c.id == bindparam("operator_id"))
#: Who is logged in, remembered per process (and app) for a few seconds: the panel polls every
#: second, and an account removed from the database stops working within this time.
IDENTITY_TTL_SECONDS = 5.0


def _identity_cache() -> dict:
    return current_app.extensions.setdefault("reflexion_operator_identities", {})


@login_manager.user_loader
def load_operator(operator_id: str):
    if not operator_id.isdigit():
        return None
    cache, key, now = _identity_cache(), int(operator_id), time.monotonic()
    cached = cache.get(key)
    if cached and now - cached[0] < IDENTITY_TTL_SECONDS:
        return cached[1]
    with db.engine.connect() as connection:
        row = connection.execute(_IDENTITY_QUERY, {"operator_id": key}).first()
    identity = OperatorIdentity(row.id, row.email, row.session_generation, bool(row.two_factor)) if row else None
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (now, identity)
    return identity


def forget_identities():
    """Drop the remembered identities (after an account changes)."""
    _identity_cache().clear()


def create_operator(email: str, password: str) -> Operator:
    """Create an operator; raise ValueError on a short password or a taken e-mail."""
    email = email.strip().lower()
    if len(password) < 10:
        raise ValueError("password must have at least 10 characters")
    if db.session.scalar(select(Operator.id).where(func.lower(Operator.email) == email)):
        raise ValueError("an operator with this e-mail exists")
    operator = Operator(email=email, created_at=clock.now())
    operator.set_password(password)
    db.session.add(operator)
    db.session.flush()
    forget_identities()
    return operator


def authenticate(email: str, password: str) -> Operator | None:
    operator = db.session.scalar(select(Operator).where(func.lower(Operator.email) == email.strip().lower()))
    if operator is None:
        # Spend the same time as a real check so timing does not reveal accounts.
        Operator(password_hash="").set_password(password)
        return None
    if not operator.check_password(password):
        return None
    operator.last_login_at = clock.now()
    return operator


MIN_PASSWORD_LENGTH = 10


class PasswordRefused(ValueError):
    """A password change was refused; the message is for the operator (translated)."""


def change_password(operator: Operator, current: str, new: str, repeated: str):
    """Set a new password after checking the current one; every other session of the account ends.

    The caller keeps its own browser logged in by calling :func:`keep_this_session`.
    """
    if not operator.check_password(current):
        raise PasswordRefused(_("The current password is wrong."))
    if len(new) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(_("The new password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if new != repeated:
        raise PasswordRefused(_("The two new passwords differ."))
    if new == current:
        raise PasswordRefused(_("The new password is the same as the current one."))
    operator.set_password(new)  # raises the session generation: copies of old cookies stop working
    db.session.flush()
    forget_identities()


def keep_this_session(operator: Operator):
    """After the account's sessions were revoked on purpose, let this browser carry on."""
    session[GENERATION] = operator.session_generation


def begin_pending_login(operator: Operator, target: str):
    """The password was right and the account has a second factor: ask for the code next."""
    session.clear()
    session[PENDING_LOGIN] = {"id": operator.id, "at": clock.now().isoformat(),
                              "generation": operator.session_generation or 0, "next": target}


def pending_operator() -> Operator | None:
    """The account whose password was given in this browser within the last few minutes."""
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if clock.now() - started > timedelta(minutes=PENDING_LOGIN_MINUTES):
        return None
    operator = db.session.get(Operator, pending.get("id"))
    if operator is None or (operator.session_generation or 0) != pending.get("generation"):
        return None
    return operator
