"""Contact messages: stored in the database, never e-mailed."""
from reflexion import clock, platforms, signals
from reflexion.extensions import db
from reflexion.pages.models import ContactMessage


def receive_message(*, name: str, email: str, call_handle: str | None, message: str, lang: str,
                    call_platform: str | None = None) -> ContactMessage:
    """Store a contact message; the operator is told only that one arrived (no content).

    A call handle is checked for its platform (default: the first offered) like a booking's;
    raises :class:`reflexion.platforms.HandleError`.
    """
    platform_id = None
    if (call_handle or "").strip():
        platform_id = platforms.check_offered(call_platform or platforms.default_platform()).id
        call_handle = platforms.normalize_client_handle(platform_id, call_handle, lang)
    entry = ContactMessage(name=name, email=email, call_handle=call_handle or None, call_platform=platform_id,
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
