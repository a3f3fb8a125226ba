"""The receipt or credit note as a PDF (fpdf2), in the document's language.

Drawn from the document's snapshot only (never from today's settings or booking), with the
creation date set to the instant of issue, so the same document always gives the same
text. DejaVu Sans (``static/fonts``, Bitstream Vera licence) carries ä ö å ü ß € – and the
text is extractable (fpdf2 writes a ToUnicode map).
"""
from decimal import Decimal
from pathlib import Path

from flask_babel import force_locale, gettext as _
from fpdf import FPDF

from reflexion.booking.payments import METHOD_LABELS
from reflexion.i18n import format_day, format_instant, format_money, practice_zone
from reflexion.receipts import vat
from reflexion.receipts.models import CREDIT_NOTE, Receipt

FONT_DIR = Path(__file__).resolve().parent.parent.parent / "static" / "fonts"
FONT = "DejaVu"
ACCENT = (47, 93, 98)
MUTED = (90, 90, 90)


def _service_line(document: Receipt, lang: str) -> str:
    return _("Video conversation, %(minutes)s minutes, on %(when)s", minutes=document.service_minutes,
             when=format_instant(document.service_start, "full", lang, nbsp=True))  # time and zone stay together


def _vat_note(document: Receipt) -> str:
    return _("In accordance with § 19 UStG (German small-business rule) no VAT is charged.")


def _rate(document: Receipt) -> str:
    rate = Decimal(document.vat_rate_percent)
    return f"{rate.normalize():f}".replace(".", ",")


def _method(method: str | None) -> str:
    label = METHOD_LABELS.get(method or "")
    return str(label) if label is not None else _("Other way of payment")


class _Document(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer_text
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=22)

    def footer(self):
        self.set_y(-16)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, self._footer_text, align="C")


def render(document: Receipt) -> bytes:
    lang = document.lang if document.lang in ("de", "sv") else "de"
    with force_locale(lang):
        return bytes(_draw(document, lang))


def _money(cents: int, document: Receipt, lang: str, negative=False) -> str:
    return format_money(-cents if negative else cents, document.currency, lang)


def _draw(document: Receipt, lang: str):
    credit = document.kind == CREDIT_NOTE
    title = _("Credit note") if credit else _("Receipt")
    address_lines = [line.strip() for line in (document.seller_address or "").splitlines() if line.strip()]
    footer = " · ".join([document.seller_name, *address_lines, document.seller_email])
    pdf = _Document(footer)
    pdf.set_title(f"{title} {document.display_number}")
    pdf.set_author(document.seller_name)
    pdf.set_subject(title)
    pdf.set_lang(lang)
    pdf.set_creator(document.seller_brand)
    pdf.set_creation_date(document.issued_at)
    pdf.add_page()
    width = pdf.epw

    # The practice
    pdf.set_font(FONT, "B", 15)
    pdf.set_text_color(*ACCENT)
    pdf.cell(width, 8, document.seller_brand, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 10)
    for line in [document.seller_name, *address_lines, document.seller_email]:
        pdf.cell(width, 5, line, new_x="LMARGIN", new_y="NEXT")
    if document.tax_number:
        pdf.cell(width, 5, _("Tax number: %(number)s", number=document.tax_number), new_x="LMARGIN", new_y="NEXT")
    if document.vat_id:
        pdf.cell(width, 5, _("VAT ID: %(number)s", number=document.vat_id), new_x="LMARGIN", new_y="NEXT")

    # Title and the facts of the document
    pdf.ln(10)
    pdf.set_font(FONT, "B", 18)
    pdf.cell(width, 10, f"{title} {document.display_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "", 10)
    facts = [
        (_("Number"), document.display_number),
        (_("Date"), format_day(document.issued_at.astimezone(practice_zone()).date(), "long", lang)),
        (_("Booking reference"), document.booking_ref),
        (_("Client"), document.client_name),
    ]
    if credit and document.refers_to is not None:
        receipt = document.refers_to
        facts.insert(1, (_("For receipt"), _("%(number)s of %(date)s", number=receipt.display_number,
                                             date=format_day(receipt.issued_at.astimezone(practice_zone()).date(),
                                                             "long", lang))))
    for label, value in facts:
        pdf.set_text_color(*MUTED)
        pdf.cell(45, 6, label)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(width - 45, 6, value, new_x="LMARGIN", new_y="NEXT")

    # The service and the amounts
    pdf.ln(8)
    pdf.set_font(FONT, "B", 10)
    pdf.set_fill_color(235, 241, 241)
    pdf.cell(width - 40, 8, _("Service"), fill=True)
    pdf.cell(40, 8, _("Amount"), fill=True, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    service = _service_line(document, lang)
    if credit:
        service = _("Refund: %(service)s", service=service)
    y = pdf.get_y() + 1
    pdf.set_xy(pdf.l_margin, y)
    pdf.multi_cell(width - 45, 6, service, new_x="LMARGIN", new_y="NEXT")
    after = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width - 40, y)
    pdf.cell(40, 6, _money(document.amount_cents, document, lang, credit), align="R")
    pdf.set_y(max(after, y + 6) + 2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(2)

    def total_line(label, cents, bold=False):
        pdf.set_font(FONT, "B" if bold else "", 10)
        pdf.cell(width - 40, 6, label, align="R")
        pdf.cell(40, 6, _money(cents, document, lang, credit), align="R", new_x="LMARGIN", new_y="NEXT")

    if document.vat_mode == vat.STANDARD:
        net, tax = vat.vat_split(document.amount_cents, document.vat_rate_percent)
        total_line(_("Net amount"), net)
        total_line(_("VAT %(rate)s %%", rate=_rate(document)), tax)
        total_line(_("Total"), document.amount_cents, bold=True)
    else:
        total_line(_("Total"), document.amount_cents, bold=True)
        pdf.ln(3)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(width, 5, _vat_note(document), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(8)
    pdf.set_font(FONT, "", 10)
    if credit:
        pdf.multi_cell(width, 5, _("The amount of %(amount)s is refunded to you. This credit note cancels "
                                   "receipt %(number)s to that amount.",
                                   amount=_money(document.amount_cents, document, lang),
                                   number=document.refers_to.display_number if document.refers_to else ""),
                       new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.multi_cell(width, 5, _("Paid on %(date)s (%(method)s). Thank you.",
                                   date=format_day(document.paid_at.astimezone(practice_zone()).date(), "long", lang),
                                   method=_method(document.payment_method)),
                       new_x="LMARGIN", new_y="NEXT")
    return pdf.output()
