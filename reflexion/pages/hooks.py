"""Effects after a contact message arrives. Filled in by the mail work."""


def message_received(message):
    """Tell the operator, without content, that a message is waiting."""
