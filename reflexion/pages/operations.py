"""Contact messages: stored in the database, never e-mailed."""
from reflexion import clock, signals
from reflexion.extensions import db
from reflexion.pages.models import ContactMessage


def receive_message(*, name: str, email: str, call_handle: str | None, message: str, lang: str) -> ContactMessage:
    """Store a contact message; the operator is told only that one arrived (no content)."""
    entry = ContactMessage(name=name, email=email, call_handle=call_handle or None,
                           message=message, lang=lang, received_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    signals.message_received.send(entry)
    return entry


def mark_read(message: ContactMessage) -> None:
    """The operator has read ``message`` (the first reading counts)."""
    if message.read_at is None:
        message.read_at = clock.now()
        db.session.flush()
