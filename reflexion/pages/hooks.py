"""Effects after a contact message arrives."""


def message_received(message):
    """Tell the operator, without content, that a message is waiting (if MAIL_OPERATOR_NOTICE is set)."""
    from reflexion.mail import notify

    notify.message_received(message)
