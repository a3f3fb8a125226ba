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
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
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
    try:
        root = ElementTree.fromstring(data)
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
    # Elements by local name from here on (the namespace is checked once, above), each entry
    # read in one walk (_paths): a 10,000-entry statement in well under a second.
    statement = Statement(format=f"camt.053.001.{match.group(1)}")
    messages = _children(root, "BkToCstmrStmt")
    if not messages:
        raise _not_a_statement()
    statements = [stmt for message in messages for stmt in _children(message, "Stmt")]
    for number, stmt in enumerate(statements, 1):
        fields = _paths(stmt, skip=("Ntry",))
        account = (_t(fields, "Acct/Id/IBAN", "Acct/Id/Othr/Id") or "").replace(" ", "")
        if not account:
            raise _broken(_l("the account of statement %(number)s", number=number))
        if account not in statement.accounts:
            statement.accounts.append(account)
        account_currency = _t(fields, "Acct/Ccy")
        for entry_number, entry in enumerate(_children(stmt, "Ntry"), 1):
            try:
                statement.lines += _camt_entry_lines(entry, account, account_currency)
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


def _local(tag: str) -> str:
    return tag[tag.index("}") + 1:] if tag[0] == "{" else tag


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def cents(value: str) -> int:
    """A statement amount ('90.00', '90,00') in cents; refuses anything else."""
    amount = Decimal(value.strip().replace(",", "."))
    if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > Decimal("999999999999.99"):
        raise ValueError(f"not an amount: {value!r}")
    return int(amount * 100)


def _paths(element, prefix="", found=None, skip=()):
    """Every descendant of ``element`` by its path ("Refs/EndToEndId"), in document order: one
    walk per entry instead of a search per field."""
    found = {} if found is None else found
    for child in element:
        tag = child.tag
        tag = tag[tag.index("}") + 1:] if tag[0] == "{" else tag
        if tag in skip:
            continue
        path = prefix + tag
        found.setdefault(path, []).append(child)
        if len(child):
            _paths(child, path + "/", found)
    return found


def _t(found, *paths) -> str | None:
    """The text of the first of ``paths`` present, whitespace folded."""
    for path in paths:
        for node in found.get(path, ()):
            value = " ".join((node.text or "").split())
            if value:
                return value
    return None


def _texts(found, path) -> list[str]:
    return [value for value in (" ".join((n.text or "").split()) for n in found.get(path, ())) if value]


def _day(found, path) -> date | None:
    value = _t(found, f"{path}/Dt", f"{path}/DtTm")
    return date.fromisoformat(value[:10]) if value else None


def _amt(found, path):
    nodes = found.get(path)
    if not nodes or not (nodes[0].text or "").strip():
        return None
    currency = (nodes[0].get("Ccy") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError("amount without currency")
    return cents(nodes[0].text), currency


def _camt_entry_lines(entry, account, account_currency) -> list[StatementLine]:
    fields = _paths(entry, skip=("NtryDtls",))
    amount = _amt(fields, "Amt")
    if amount is None:
        raise ValueError("entry without amount")
    indicator = _t(fields, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise ValueError("entry without credit/debit indicator")
    # <Sts>BOOK</Sts> up to .001.07, <Sts><Cd>BOOK</Cd></Sts> from .001.08 on
    status = (_t(fields, "Sts/Cd", "Sts/Prtry", "Sts") or "").upper()
    common = dict(
        account=account,
        entry_ref=_t(fields, "AcctSvcrRef", "NtryRef"),
        booked_on=_day(fields, "BookgDt"),
        value_on=_day(fields, "ValDt"),
        credit=indicator == "CRDT",
        booked=status == "BOOK",
        reversal=(_t(fields, "RvslInd") or "").lower() == "true",
        info=_t(fields, "AddtlNtryInf"),
    )
    if indicator == "DBIT" or status != "BOOK" or common["reversal"]:
        # Not money received: one line for the whole entry, its transactions are not read.
        return [StatementLine(tx_ref=None, tx_index=0, amount_cents=amount[0], currency=amount[1], **common)]
    details = [_paths(tx) for dtls in _children(entry, "NtryDtls") for tx in _children(dtls, "TxDtls")]
    if not details:
        return [StatementLine(tx_ref=None, tx_index=0, amount_cents=amount[0], currency=amount[1], **common)]
    amounts = [_amt(tx, "AmtDtls/TxAmt/Amt") or _amt(tx, "Amt") for tx in details]
    if len(details) > 1 and any(a is None for a in amounts):
        # A batch whose transactions carry no amounts of their own: one line, all texts together.
        texts = [text for tx in details for text in _texts(tx, "RmtInf/Ustrd")]
        return [StatementLine(tx_ref=None, tx_index=0, amount_cents=amount[0], currency=amount[1],
                              remittance=tuple(texts), **common)]
    lines = []
    for index, (tx, tx_amount) in enumerate(zip(details, amounts)):
        cents_, currency = tx_amount or amount
        e2e = _t(tx, "Refs/EndToEndId")
        lines.append(StatementLine(
            tx_ref=_t(tx, "Refs/AcctSvcrRef", "Refs/TxId"),
            tx_index=index, amount_cents=cents_, currency=currency,
            remittance=tuple(_texts(tx, "RmtInf/Ustrd")),
            structured_refs=tuple(_texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")),
            end_to_end_id=None if (e2e or "").upper() == "NOTPROVIDED" else e2e,
            debtor_name=_t(tx, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm", "RltdPties/UltmtDbtr/Nm",
                           "RltdPties/UltmtDbtr/Pty/Nm"),
            debtor_iban=_t(tx, "RltdPties/DbtrAcct/Id/IBAN"),
            **{**common, "info": _t(tx, "AddtlTxInf") or common["info"]},
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
