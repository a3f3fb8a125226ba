"""Getting a built message out: SMTP from the ``MAIL_*`` settings, or ``instance/outbox/``.

Without ``MAIL_SERVER`` (one machine, nothing installed) each message is written as an
``.eml`` file to ``<instance>/outbox/`` and one line is logged. With it, the message goes to
that server: plain SMTP, STARTTLS (``MAIL_USE_TLS``) or implicit TLS (``MAIL_USE_SSL``),
with login when ``MAIL_USERNAME`` is set. Log lines name e-mail ids and kinds only, never
addresses or contents.
"""
import logging
import os
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from flask import current_app

from reflexion import clock
from reflexion.files import private_folder, write_private
from reflexion.settings import setting

log = logging.getLogger(__name__)


def outbox_folder() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "outbox"


def send(message: EmailMessage, *, email_id=None, kind: str | None = None) -> str:
    """Send ``message`` with the configured transport; return where it went ("smtp" or a file name)."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        send_smtp(message, config)
        log.info("mail: e-mail %s (%s) handed to the SMTP server", email_id, kind)
        return "smtp"
    path = write_outbox(message, email_id=email_id, kind=kind)
    log.info("mail: e-mail %s (%s) written to outbox/%s", email_id, kind, path.name)
    return path.name


def write_outbox(message: EmailMessage, *, email_id=None, kind: str | None = None) -> Path:
    """Write ``message`` as an ``.eml`` file (CRLF lines, as on the wire); atomic rename."""
    folder = outbox_folder()
    private_folder(folder)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{email_id or 'x'}-{kind or 'mail'}.eml"
    tmp = path.with_suffix(".tmp")
    write_private(tmp, message.as_bytes(policy=policy.SMTP))  # personal data: 0600
    os.replace(tmp, path)
    return path


def _tls_context(config) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)


def envelope(message: EmailMessage, config) -> tuple[str, list[str]]:
    """Envelope sender and recipients, taken from the parsed headers."""
    sender = parseaddr(setting("MAIL_DEFAULT_SENDER"))[1]
    recipients = [address.addr_spec for address in message["To"].addresses]
    return sender, recipients


def send_smtp(message: EmailMessage, config):
    """Deliver through ``MAIL_SERVER``; raise on any failure (the job retries)."""
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), float(config.get("MAIL_TIMEOUT", 20))
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(config))
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=_tls_context(config))
            smtp.ehlo()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        sender, recipients = envelope(message, config)
        smtp.send_message(message, from_addr=sender, to_addrs=recipients)


def describe_error(exc: BaseException) -> str:
    """A short error text without addresses or server replies (they may name the recipient)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in exc.recipients.values()})
        return f"SMTPRecipientsRefused {','.join(map(str, codes))}"
    if isinstance(exc, OSError) and exc.errno:
        return f"{type(exc).__name__} errno {exc.errno}"
    return type(exc).__name__
