"""Which booking a bank credit pays: the reference in its texts, then amount and currency (pure).

Clients type the booking reference (``R-7KQ4M2``, :mod:`reflexion.booking.codes`) into their
banking app by hand. :func:`candidate_references` finds it however it was written: any case,
with spaces, with the dash missing or replaced (``r7kq4m2``, ``R 7KQ4M2``, ``R–7KQ4M2``,
``R_7KQ4M2``), split over two remittance lines, and with any other text around it
(``Ref R-7KQ4M2 Danke``). The candidates are then looked up in the database in one query.

:func:`classify` decides the outcome of one credit against the booking it names (or none).
"""
import re
import unicodedata
from enum import StrEnum

from reflexion.booking.codes import REF_ALPHABET
from reflexion.booking.states import PAID_STATES, State

_CODE_CHAR = f"[{REF_ALPHABET}]"
_SEPARATORS = r"[\s\-\u2010-\u2015\u2212_./:#]*"
# "R", optional separators, then the six code characters (a single space may sit between them,
# where a bank split a line). The strict pattern wants the reference to stand alone; the loose one
# also finds it glued to other words ("ReferenzR7KQ4M2"), tried after it.
_REFERENCE = re.compile(rf"(?<![A-Z0-9])R{_SEPARATORS}((?:{_CODE_CHAR}\s?){{5}}{_CODE_CHAR})(?![A-Z0-9])")
_REFERENCE_LOOSE = re.compile(rf"R{_SEPARATORS}((?:{_CODE_CHAR}\s?){{5}}{_CODE_CHAR})")
_SPACE = re.compile(r"\s")
_WORD = re.compile(r"[a-z]+")  # of a name, folded


class Outcome(StrEnum):
    """What became of a credit on an imported statement."""

    MATCHED = "matched"  # confirmed through confirm_payment
    PARTIAL = "partial"  # less than the fee
    OVERPAID = "overpaid"  # more than the fee
    WRONG_CURRENCY = "wrong_currency"
    DUPLICATE = "duplicate"  # the booking was already paid
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    UNKNOWN_REFERENCE = "unknown_reference"  # looks like a reference, but no booking has it
    NO_REFERENCE = "no_reference"
    NOT_CONFIRMABLE = "not_confirmable"  # the booking lacks what confirmation needs (call handle)


#: Outcomes the operator has to look at.
NEEDS_ATTENTION = frozenset(Outcome) - {Outcome.MATCHED}


def _fold(text: str) -> str:
    """Upper case, compatibility forms folded (full-width letters, ligatures)."""
    return unicodedata.normalize("NFKC", text or "").upper()


def candidate_references(texts) -> list[str]:
    """Every booking reference (normalised ``R-XXXXXX``) that ``texts`` may contain, best first.

    Each text is searched alone and, for references split across a bank's line break, joined
    with the next one; a strict pass (the reference stands alone) comes before a loose one.
    """
    texts = [t for t in texts if t]
    joined = ["".join(texts), " ".join(texts)] if len(texts) > 1 else []
    found = []
    for pattern in (_REFERENCE, _REFERENCE_LOOSE):
        for text in [*texts, *joined]:
            for match in pattern.finditer(_fold(text)):
                ref = "R-" + _SPACE.sub("", match.group(1))
                if ref not in found:
                    found.append(ref)
    return found


def looks_like_reference(texts) -> bool:
    """Whether ``texts`` hold something written as a reference ("R-…" standing alone)."""
    return any(_REFERENCE.search(_fold(text)) for text in texts if text)


def line_texts(line) -> list[str]:
    """The texts of a statement line a reference can hide in, in the order they are trusted."""
    return [*line.structured_refs, *line.remittance, line.end_to_end_id or "", line.info or ""]


def classify(line, booking, already_paid: bool = False) -> Outcome:
    """The outcome for a credit ``line`` that names ``booking`` (None: no booking found)."""
    if booking is None:
        return Outcome.NO_REFERENCE
    state = State(booking.state)
    if already_paid or state in PAID_STATES:
        return Outcome.DUPLICATE
    if state == State.EXPIRED:
        return Outcome.EXPIRED
    if state == State.CANCELLED:
        return Outcome.CANCELLED
    if line.currency != booking.currency:
        return Outcome.WRONG_CURRENCY
    if line.amount_cents < booking.fee_cents:
        return Outcome.PARTIAL
    if line.amount_cents > booking.fee_cents:
        return Outcome.OVERPAID
    if not (booking.call_handle or "").strip():
        return Outcome.NOT_CONFIRMABLE
    return Outcome.MATCHED


def normalised_name(name: str | None) -> str:
    """A payer's or client's name for comparison: letters only, any order ("Muster, Erika")."""
    name = name or ""
    if name.isascii():  # nothing to decompose or strip: the same result, without the per-letter loop
        letters = name.lower()
    else:
        folded = unicodedata.normalize("NFKD", name).casefold()
        letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(sorted(_WORD.findall(letters)))
