"""Read a bank statement file into plain lines: camt.053 (ISO 20022) and MT940.

Pure: bytes in, :class:`Statement` out, no database. Every problem raises
:class:`StatementError` with a localized message before anything is applied.

- camt.053: parsed here with the standard library's ElementTree (expat), after refusing any
  DTD or entity declaration (a statement never has one: no XXE, no entity expansion; the
  ``defusedxml`` parser does the same but in pure Python, 3× slower on a large file). Driven by the
  document's namespace ``urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN``; elements are
  looked up in that namespace, so .001.02 through .001.13 read alike. The ``camt053`` package
  on PyPI was tried and not taken: it drops the remittance information (what we match on)
  and batch transactions' own amounts, and pulls in a web framework.
- MT940: ``mt-940`` (zero dependencies, years of bank quirks), including the German
  structured ``:86:`` field (``?20``–``?29`` with ``SVWZ+``/``EREF+``, ``?32`` name).

What counts (PITFALLS.md, Payments): only credits (``CRDT``) that are booked (``BOOK``) and not
reversals are money received; one entry may hold several transactions (batch booking); the
reference may be in unstructured text (split over several lines), a structured creditor
reference or the end-to-end id.
"""
import gc
import hashlib
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from io import BytesIO

from xml.etree import ElementTree
from flask_babel import lazy_gettext as _l

CAMT053_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
ISO20022_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})$")
#: Versions of camt.053 read (namespace-driven: the elements used here are the same in all).
CAMT053_VERSIONS = range(2, 14)


class StatementError(Exception):
    """The file cannot be imported; ``message`` says why in the operator's language."""

    def __init__(self, kind: str, message):
        super().__init__(kind)
        self.kind, self.message = kind, message


def _not_a_statement():
    return StatementError("not_a_statement", _l(
        "This file is not a bank statement. Please upload the account statement from your online "
        "banking as camt.053 (XML) or MT940."))


def _truncated():
    return StatementError("truncated", _l(
        "This statement is incomplete: the file ends in the middle. Please download it again from "
        "your online banking."))


def _unknown_format(name):
    return StatementError("unknown_format", _l(
        "This statement's format (%(format)s) cannot be imported. Please export camt.053 (XML) or MT940.",
        format=name))


def _broken(where):
    return StatementError("broken", _l(
        "The statement could not be read: %(where)s is damaged. Nothing was imported.", where=where))


@dataclass(frozen=True)
class StatementLine:
    """One booked transaction: a single entry, or one transaction of a batch entry."""

    account: str
    entry_ref: str | None  # the bank's reference for the entry (AcctSvcrRef, NtryRef, MT940 bank ref)
    tx_ref: str | None  # the bank's reference for this transaction inside a batch entry
    tx_index: int  # position inside the entry (0 for a single transaction)
    booked_on: date | None
    value_on: date | None
    amount_cents: int  # always positive; ``credit`` tells the direction
    currency: str
    credit: bool
    booked: bool  # status BOOK (not pending or informational)
    reversal: bool
    remittance: tuple[str, ...] = ()  # unstructured lines as the bank split them
    structured_refs: tuple[str, ...] = ()
    end_to_end_id: str | None = None
    debtor_name: str | None = None
    debtor_iban: str | None = None
    info: str | None = None  # the bank's additional text (AddtlNtryInf, posting text)

    @property
    def money_received(self) -> bool:
        return self.credit and self.booked and not self.reversal

    @property
    def remittance_text(self) -> str:
        return " ".join(part for part in self.remittance if part)

    def fingerprint(self) -> str:
        """The transaction's fields, hashed: its identity where the bank gives no reference."""
        parts = (self.account, self.booked_on, self.value_on, self.amount_cents, self.currency, self.credit,
                 self.reversal, self.remittance_text, "|".join(self.structured_refs), self.end_to_end_id,
                 self.debtor_name, self.debtor_iban)
        return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


@dataclass
class Statement:
    format: str  # "camt.053.001.02", "camt.053.001.08", "mt940"
    accounts: list[str] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)


def read_statement(data: bytes) -> Statement:
    """Parse a statement file (camt.053 XML, a ZIP of them, or MT940); raise :class:`StatementError`."""
    if not data or not data.strip():
        raise StatementError("empty", _l("The file is empty."))
    if data[:4] == b"PK\x03\x04":
        return _read_zip(data)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _read_camt(data)
    text = _decode(data)
    if _looks_like_mt940(text):
        return _read_mt940(text)
    raise _not_a_statement()


# --- ZIP (German banks ship camt.053 as a ZIP of one file per account and day) ---------------

MAX_ZIP_MEMBERS = 400
MAX_ZIP_BYTES = 50 * 1024 * 1024


def _read_zip(data: bytes) -> Statement:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _truncated() from exc
    if not members or len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise _not_a_statement()
    combined = None
    for info in sorted(members, key=lambda m: m.filename):
        try:
            part = _read_camt(archive.read(info))
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise _truncated() from exc
        if combined is None:
            combined = part
        else:
            combined.accounts += [a for a in part.accounts if a not in combined.accounts]
            combined.lines += part.lines
            if part.format != combined.format:
                combined.format = "camt.053"
    return combined


# --- camt.053 -------------------------------------------------------------------------------

def _read_camt(data: bytes) -> Statement:
    _refuse_declarations(data)
    with collector_paused():
        return _read_camt_tree(data)


@contextmanager
def collector_paused():
    """The cyclic garbage collector off while a statement is read (and imported): its tree has no
    cycles (refcounting frees it), but its hundreds of thousands of new elements, and an import's
    thousands of lines and rows, would set off collections that scan the whole process (in a
    populated app, half the parse time). Process-wide, for about a second; switched on again only
    if it was on (another import may overlap); what an import leaves is collected after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_camt_tree(data: bytes) -> Statement:
    # iterparse only for the namespace declarations (the tree is built by the C parser as with
    # fromstring, at the same speed); they tell whether every element is in the document's namespace.
    declarations = []
    try:
        events = ElementTree.iterparse(BytesIO(data), events=("start-ns",))
        for _, declaration in events:
            declarations.append(declaration)
        root = events.root
    except ElementTree.ParseError as exc:
        if _xml_ends_early(exc):
            raise _truncated() from exc
        raise _not_a_statement() from exc
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    match = CAMT053_NAMESPACE.match(namespace)
    if local != "Document" or not match:
        other = ISO20022_NAMESPACE.match(namespace)
        if other:
            raise _unknown_format(other.group(1))
        raise _not_a_statement()
    version = int(match.group(1))
    if version not in CAMT053_VERSIONS:
        raise _unknown_format(f"camt.053.001.{match.group(1)}")
    # Elements by local name from here on (the namespace is checked once, above): an element in
    # another namespace or none is renamed into the document's (rare; a bank's file has none), and
    # every lookup then compares whole tags in ElementTree's C code. A 10,000-entry statement
    # reads in well under half a second.
    if _foreign_elements_possible(declarations, namespace, data):
        _into_namespace(root, namespace)
    tags = _tags(namespace)
    statement = Statement(format=f"camt.053.001.{match.group(1)}")
    messages = root.findall(tags.BkToCstmrStmt)
    if not messages:
        raise _not_a_statement()
    statements = [stmt for message in messages for stmt in message.findall(tags.Stmt)]
    for number, stmt in enumerate(statements, 1):
        fields = _index(stmt)
        account = (_t(fields, tags.ACCOUNT) or "").replace(" ", "")
        if not account:
            raise _broken(_l("the account of statement %(number)s", number=number))
        if account not in statement.accounts:
            statement.accounts.append(account)
        account_currency = _t(fields, tags.ACCOUNT_CURRENCY)
        for entry_number, entry in enumerate(stmt.findall(tags.Ntry), 1):
            try:
                statement.lines += _camt_entry_lines(entry, tags, account, account_currency)
            except (ValueError, InvalidOperation) as exc:
                raise _broken(_l("entry %(number)s", number=entry_number)) from exc
    return statement


def _xml_ends_early(error) -> bool:
    """Expat reports a document cut off as 'no element found' or an unclosed token at its end."""
    message = str(error)
    return "no element found" in message or "unclosed token" in message


def _refuse_declarations(data: bytes):
    """No DTD, no entity declarations: a statement never has them, and refusing them rules out
    XXE and entity expansion. Checked on the bytes, which is sound for the encodings expat reads
    that keep ASCII as ASCII (UTF-8, ISO 8859-1, US-ASCII); UTF-16 documents (NUL bytes) are
    refused, as banks write camt.053 in UTF-8."""
    if b"\x00" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _not_a_statement()


def _foreign_elements_possible(declarations, namespace, data) -> bool:
    """Whether an element may lie outside ``namespace``: unless every default namespace declared is
    the document's and no element name carries a prefix (each declared prefix, and ``xml``, is
    looked for as ``<prefix:`` in the bytes; one found in a comment only costs the renaming walk),
    every element is unprefixed under the document's default namespace (the root is, as checked)."""
    for prefix, uri in declarations:
        if prefix == "" and uri != namespace:
            return True
    prefixes = {prefix for prefix, _ in declarations if prefix} | {"xml"}
    return any(f"<{prefix}:".encode() in data for prefix in prefixes)


def _into_namespace(root, namespace):
    """Rename every element outside ``namespace`` (another one, or none) into it, by its local name."""
    qualified = "{" + namespace + "}"
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and not tag.startswith(qualified):
            element.tag = qualified + _local(tag)


def _local(tag: str) -> str:
    return tag[tag.index("}") + 1:] if tag[0] == "{" else tag


class _Tags:
    """One document namespace's element names ("{urn:...}Amt" as ``tags.Amt``) and the paths read,
    as tuples of them: built once per namespace, so no tag is formatted per entry."""

    NAMES = ("BkToCstmrStmt Stmt Ntry Acct Id IBAN Othr Ccy Amt CdtDbtInd Sts Cd Prtry AcctSvcrRef NtryRef "
             "BookgDt ValDt Dt DtTm RvslInd AddtlNtryInf NtryDtls TxDtls AmtDtls TxAmt Refs EndToEndId TxId "
             "RmtInf Ustrd Strd CdtrRefInf Ref RltdPties Dbtr UltmtDbtr Pty Nm DbtrAcct AddtlTxInf").split()

    def __init__(self, namespace):
        for name in self.NAMES:
            setattr(self, name, f"{{{namespace}}}{name}")
        # Paths for _t, each as (a child's tag, the tags below it), the first one found counting.
        self.ACCOUNT = _first_rest((self.Acct, self.Id, self.IBAN), (self.Acct, self.Id, self.Othr, self.Id))
        self.ACCOUNT_CURRENCY = _first_rest((self.Acct, self.Ccy))
        # <Sts>BOOK</Sts> up to .001.07, <Sts><Cd>BOOK</Cd></Sts> from .001.08 on
        self.STATUS = _first_rest((self.Sts, self.Cd), (self.Sts, self.Prtry), (self.Sts,))
        self.ENTRY_REF = _first_rest((self.AcctSvcrRef,), (self.NtryRef,))
        self.BOOKED = _first_rest((self.BookgDt, self.Dt), (self.BookgDt, self.DtTm))
        self.VALUE = _first_rest((self.ValDt, self.Dt), (self.ValDt, self.DtTm))
        self.TX_REF = _first_rest((self.Refs, self.AcctSvcrRef), (self.Refs, self.TxId))
        self.END_TO_END = _first_rest((self.Refs, self.EndToEndId))
        self.DEBTOR = _first_rest(*((self.RltdPties, *party, self.Nm) for party in (
            (self.Dbtr,), (self.Dbtr, self.Pty), (self.UltmtDbtr,), (self.UltmtDbtr, self.Pty))))
        self.DEBTOR_IBAN = _first_rest((self.RltdPties, self.DbtrAcct, self.Id, self.IBAN))
        # Paths for _below
        self.TX_AMOUNT = (self.TxAmt, self.Amt)  # below AmtDtls
        self.STRUCTURED = (self.Strd, self.CdtrRefInf, self.Ref)  # below RmtInf


def _first_rest(*paths):
    return tuple((path[0], path[1:]) for path in paths)


@lru_cache(maxsize=16)
def _tags(namespace) -> _Tags:
    return _Tags(namespace)


_PLAIN_AMOUNT = re.compile(r"([0-9]{1,12})(?:[.,]([0-9]{1,2}))?", re.ASCII)


def cents(value: str) -> int:
    """A statement amount ('90.00', '90,00') in cents; refuses anything else."""
    plain = _PLAIN_AMOUNT.fullmatch(value.strip())
    if plain:  # the usual form, without Decimal: the same value
        whole, fraction = plain.groups()
        return int(whole) * 100 + (int(fraction.ljust(2, "0")) if fraction else 0)
    amount = Decimal(value.strip().replace(",", "."))
    if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > Decimal("999999999999.99"):
        raise ValueError(f"not an amount: {value!r}")
    return int(amount * 100)


def _index(element) -> dict:
    """``element``'s children by tag, each tag's in document order."""
    children = {}
    for child in element:
        tag = child.tag
        if tag in children:
            children[tag].append(child)
        else:
            children[tag] = [child]
    return children


def _below(nodes, path):
    """The descendants of ``nodes`` at ``path`` (tags), in document order."""
    for tag in path:
        if not nodes:
            break
        nodes = nodes[0].findall(tag) if len(nodes) == 1 else [c for n in nodes for c in n.findall(tag)]
    return nodes


def _text(nodes) -> str | None:
    """The first of ``nodes``' texts that is not blank, whitespace folded."""
    for node in nodes:
        text = node.text
        if text:
            value = " ".join(text.split())
            if value:
                return value
    return None


def _t(children, paths) -> str | None:
    """The text at the first of ``paths`` (pairs of a child's tag and the tags below it) found
    below ``children`` (an :func:`_index`); :func:`_below` inlined, as this runs a dozen times
    per entry."""
    for first, rest in paths:
        nodes = children.get(first)
        if nodes is None:
            continue
        for tag in rest:
            nodes = nodes[0].findall(tag) if len(nodes) == 1 else [c for n in nodes for c in n.findall(tag)]
            if not nodes:
                break
        value = _text(nodes)
        if value:
            return value
    return None


def _texts(children, first, rest) -> list[str]:
    texts = []
    for node in _below(children.get(first, ()), rest):
        text = node.text
        if text:
            value = " ".join(text.split())
            if value:
                texts.append(value)
    return texts


def _day(children, paths) -> date | None:
    value = _t(children, paths)
    return date.fromisoformat(value[:10]) if value else None


_CURRENCY = re.compile(r"[A-Z]{3}")


def _amt(nodes):
    """(cents, currency) of the first of ``nodes`` (amount elements); None if none or empty."""
    if not nodes:
        return None
    node = nodes[0]
    if not (node.text or "").strip():
        return None
    currency = (node.get("Ccy") or "").strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise ValueError("amount without currency")
    return cents(node.text), currency


def _camt_entry_lines(entry, tags, account, account_currency) -> list[StatementLine]:
    fields = _index(entry)
    amount = _amt(fields.get(tags.Amt))
    if amount is None:
        raise ValueError("entry without amount")
    indicator = _text(fields.get(tags.CdtDbtInd, ()))
    if indicator not in ("CRDT", "DBIT"):
        raise ValueError("entry without credit/debit indicator")
    status = (_t(fields, tags.STATUS) or "").upper()
    reversal = (_text(fields.get(tags.RvslInd, ())) or "").lower() == "true"
    common = dict(
        account=account,
        entry_ref=_t(fields, tags.ENTRY_REF),
        booked_on=_day(fields, tags.BOOKED),
        value_on=_day(fields, tags.VALUE),
        credit=indicator == "CRDT",
        booked=status == "BOOK",
        reversal=reversal,
        info=_text(fields.get(tags.AddtlNtryInf, ())),
    )
    if indicator == "DBIT" or status != "BOOK" or reversal:
        # Not money received: one line for the whole entry, its transactions are not read.
        return [StatementLine(tx_ref=None, tx_index=0, amount_cents=amount[0], currency=amount[1], **common)]
    details = [_index(tx) for tx in _below(fields.get(tags.NtryDtls, ()), (tags.TxDtls,))]
    if not details:
        return [StatementLine(tx_ref=None, tx_index=0, amount_cents=amount[0], currency=amount[1], **common)]
    amounts = [_amt(_below(tx.get(tags.AmtDtls, ()), tags.TX_AMOUNT)) or _amt(tx.get(tags.Amt)) for tx in details]
    if len(details) > 1 and any(a is None for a in amounts):
        # A batch whose transactions carry no amounts of their own: one line, all texts together.
        texts = [text for tx in details for text in _texts(tx, tags.RmtInf, (tags.Ustrd,))]
        return [StatementLine(tx_ref=None, tx_index=0, amount_cents=amount[0], currency=amount[1],
                              remittance=tuple(texts), **common)]
    lines = []
    for index, (tx, tx_amount) in enumerate(zip(details, amounts)):
        cents_, currency = tx_amount or amount
        e2e = _t(tx, tags.END_TO_END)
        lines.append(StatementLine(
            tx_ref=_t(tx, tags.TX_REF),
            tx_index=index, amount_cents=cents_, currency=currency,
            remittance=tuple(_texts(tx, tags.RmtInf, (tags.Ustrd,))),
            structured_refs=tuple(_texts(tx, tags.RmtInf, tags.STRUCTURED)),
            end_to_end_id=None if (e2e or "").upper() == "NOTPROVIDED" else e2e,
            debtor_name=_t(tx, tags.DEBTOR),
            debtor_iban=_t(tx, tags.DEBTOR_IBAN),
            **{**common, "info": _text(tx.get(tags.AddtlTxInf, ())) or common["info"]},
        ))
    return lines


# --- MT940 ----------------------------------------------------------------------------------

_IBAN_PREFIX = re.compile(r"^([A-Z]{2}\d{2}[A-Z0-9]{10,30}?)(?=[A-Z][a-z]|[A-Z]{2,}\s|\s|$)")


def _decode(data: bytes) -> str:
    """MT940 files come as UTF-8 or, from German banks, ISO 8859-1 / Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _looks_like_mt940(text: str) -> bool:
    return bool(re.search(r"^:20:", text, re.M) and re.search(r"^:25:", text, re.M)
                and re.search(r"^:60[FM]:", text, re.M))


def _read_mt940(text: str) -> Statement:
    import mt940  # here: only MT940 imports need it (the camt path does not load it)

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Every statement (:20:) must end with its closing balance (:62F: or :62M:); a file cut off
    # in the middle lacks the last one.
    blocks = re.split(r"^(?=:20:)", text, flags=re.M)
    if not re.search(r"^:62[FM]:[CD]\d{6}[A-Z]{3}[\d,]+\s*$", blocks[-1], re.M):
        raise _truncated()
    statement = Statement(format="mt940")
    number = 0
    for block in blocks:
        if not block.startswith(":20:"):
            continue  # a SWIFT header ({1:...}) or blank lines before the first statement
        transactions = mt940.models.Transactions()
        try:
            transactions.parse(block)
        except Exception as exc:  # mt940 raises plain ValueError/KeyError/RuntimeError on damage
            raise _broken(_l("a transaction line (:61:)")) from exc
        account = (transactions.data.get("account_identification") or "").replace(" ", "")
        if not account:
            raise _broken(_l("the account (:25:)"))
        if account not in statement.accounts:
            statement.accounts.append(account)
        for tx in transactions:
            number += 1
            try:
                statement.lines.append(_mt940_line(tx.data, account))
            except (ValueError, InvalidOperation, AttributeError, TypeError, KeyError) as exc:
                raise _broken(_l("entry %(number)s", number=number)) from exc
    if not statement.accounts:
        raise _not_a_statement()
    return statement


def _plain_date(value) -> date | None:
    return date(value.year, value.month, value.day) if value else None


def _mt940_line(data, account) -> StatementLine:
    amount = data["amount"]
    status = data.get("status") or ""
    value = Decimal(amount.amount)
    name, iban = data.get("applicant_name"), data.get("applicant_iban")
    if name and not iban:
        # Banks put the payer's IBAN in ?31 and name in ?32; mt-940 joins both into the name.
        found = _IBAN_PREFIX.match(name)
        if found:
            iban, name = found.group(1), name[found.end():].strip() or None
    purpose = data.get("purpose") or data.get("transaction_details") or ""
    e2e = data.get("end_to_end_reference")
    bank_ref = data.get("bank_reference")
    return StatementLine(
        account=account,
        entry_ref=None if (bank_ref or "").upper() in ("", "NONREF") else bank_ref,
        tx_ref=None, tx_index=0,
        booked_on=_plain_date(data.get("entry_date") or data.get("date")),
        value_on=_plain_date(data.get("date")),
        amount_cents=cents(str(abs(value))),
        currency=(amount.currency or data.get("currency") or "").upper(),
        # C credit, D debit, RC reversal of a credit (money out), RD reversal of a debit (money in)
        credit=status in ("C", "RD"),
        booked=True,
        reversal=status.startswith("R"),
        remittance=tuple(filter(None, [" ".join(purpose.split())])),
        end_to_end_id=None if (e2e or "").upper() in ("", "NOTPROVIDED") else e2e,
        debtor_name=name,
        debtor_iban=iban,
        info=data.get("posting_text"),
    )
