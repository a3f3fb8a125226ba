"""Operator accounts and login."""
from sqlalchemy import func, select

from reflexion import clock
from reflexion.extensions import db, login_manager
from reflexion.operator.models import Operator

login_manager.login_view = "operator.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_operator(operator_id: str):
    if not operator_id.isdigit():
        return None
    return db.session.get(Operator, int(operator_id))


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
