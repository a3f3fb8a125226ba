"""Every user-facing string exists in German and Swedish, with the same placeholders.

The strings are extracted exactly as ``make translations-update`` extracts them (``babel.cfg``:
code, page templates and the e-mails' plain-text templates alike), and every e-mail is rendered
in both languages, text and HTML part, to catch English that reaches a client anyway.
"""
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from reflexion.booking.models import Payment, Transition
from reflexion.mail import messages
from frozen import NOW

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
LANGS = ("de", "sv")


def _source_messages():
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    assert any(pattern.endswith(".txt") for pattern, _ in method_map)  # e-mail text parts are extracted
    found = {}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options_map, keywords=KEYWORDS,
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _catalog(lang):
    path = ROOT / "reflexion" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.fixture(scope="module")
def source_messages():
    messages_found = _source_messages()
    assert len(messages_found) > 50  # the extractor really found the app's strings
    return messages_found


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated(source_messages, lang):
    catalog = _catalog(lang)
    missing, fuzzy, wrong_placeholders = [], [], []
    for msgid, where in sorted(source_messages.items()):
        entry = catalog.get(msgid)
        if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            missing.append(f"{where}: {msgid[:70]}")
            continue
        if entry.fuzzy:
            fuzzy.append(msgid[:70])
        text = entry.string if isinstance(entry.string, str) else " ".join(entry.string)
        if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text)):
            wrong_placeholders.append(msgid[:70])
    assert not missing, f"{len(missing)} untranslated in {lang}:\n" + "\n".join(missing[:40])
    assert not fuzzy, f"fuzzy in {lang}: {fuzzy}"
    assert not wrong_placeholders, f"placeholders differ in {lang}: {wrong_placeholders}"


def _english_fragments(source_messages):
    """Pieces of English source text long enough that they can only come from an untranslated string."""
    fragments = set()
    for msgid in source_messages:
        for part in PLACEHOLDER.split(msgid)[::2]:
            for piece in re.split(r"[.;:!?]\s+|<[^>]+>", part):  # sentence by sentence
                piece = piece.strip(" :.,()–-\n")
                if len(piece) >= 14 and " " in piece:
                    fragments.add(piece)
    return fragments


def _every_email(db, make_booking):
    """(label, kind, booking) for every kind of e-mail and each of its variants."""
    start = NOW + timedelta(days=3, hours=1)
    received = make_booking(start)
    confirmed = make_booking(start + timedelta(hours=1), state="confirmed")
    expired = make_booking(start + timedelta(hours=2), state="expired")
    cancelled = {}
    for i, (actor, paid) in enumerate([("client", False), ("client", True), ("operator", False), ("operator", True)]):
        booking = make_booking(start + timedelta(hours=3 + i), state="cancelled")
        db.session.add(Transition(booking=booking, from_state="confirmed" if paid else "awaiting_payment",
                                  to_state="cancelled", actor=actor, at=NOW))
        if paid:
            db.session.add(Payment(booking=booking, amount_cents=9000, currency="EUR", paid_at=NOW, recorded_at=NOW,
                                   recorded_by="operator"))
        cancelled[(actor, paid)] = booking
    db.session.commit()
    yield "received", messages.BOOKING_RECEIVED, received
    yield "received (already paid)", messages.BOOKING_RECEIVED, confirmed
    yield "confirmed", messages.BOOKING_CONFIRMED, confirmed
    yield "reminder", messages.REMINDER, confirmed
    yield "expired", messages.BOOKING_EXPIRED, expired
    for (actor, paid), booking in cancelled.items():
        yield f"cancelled by {actor}{' after paying' if paid else ''}", messages.BOOKING_CANCELLED, booking
    yield "operator notice", messages.OPERATOR_NOTICE, None
    yield "operator notice: new booking", messages.OPERATOR_NOTICE_BOOKED, received
    yield "operator notice: paid", messages.OPERATOR_NOTICE_PAID, confirmed
    yield "operator notice: cancelled", messages.OPERATOR_NOTICE_CANCELLED, cancelled[("client", False)]


def _visible_text(html):
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_every_email_reads_in_its_language_in_both_parts(app, db, make_booking, frozen_now, source_messages):
    """Render every e-mail in German and Swedish; no English source text may reach either part."""
    frozen_now(NOW)
    fragments = _english_fragments(source_messages)
    assert "To reach us, use the contact form" in fragments
    catalogs = {lang: _catalog(lang) for lang in LANGS}
    # A fragment whose translation is the same text (a name, say) is no sign of a missing translation.
    same = {f for f in fragments for lang in LANGS for m in catalogs[lang] if m.id and f in m.id and f in str(m.string)}
    fragments -= same
    leaks, rendered_count = [], 0
    for label, kind, booking in _every_email(db, make_booking):
        for lang in LANGS:
            rendered = messages.render(kind, booking, lang, now=NOW)
            rendered_count += 1
            parts = {"subject": rendered["subject"], "text": rendered["text"], "html": _visible_text(rendered["html"])}
            for part, text in parts.items():
                assert text.strip(), f"{label} ({lang}) has an empty {part}"
                for line in text.splitlines():
                    hit = next((f for f in fragments if f in line), None)
                    if hit:
                        leaks.append(f"{label} [{lang}, {part}]: {line.strip()[:100]}")
    assert rendered_count == 2 * 13
    assert not leaks, "English in translated e-mails:\n" + "\n".join(sorted(set(leaks)))
