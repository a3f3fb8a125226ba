"""Reading back what we generate: QR codes with zxing-cpp, PDFs with pypdf."""
import base64
import io
import re

import zxingcpp
from PIL import Image
from pypdf import PdfReader


def decode_qr(png: bytes) -> bytes:
    """The one QR code in a PNG, decoded by zxing-cpp, as raw bytes (no charset guessing)."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    codes = [code for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, found
    assert codes[0].ec_level == "M"  # EPC069-12: error correction level M
    return codes[0].bytes


def epc_fields(png: bytes) -> list[str]:
    """The EPC QR code's lines, decoded as UTF-8 (character set 1)."""
    return decode_qr(png).decode("utf-8").split("\n")


def data_uri_png(html: str, marker: str = "data-payment-qr") -> bytes:
    """The PNG of the <img> carrying ``marker``, from its data: URI."""
    tag = re.search(r"<img[^>]*" + marker + r"[^>]*>", html)
    assert tag, f"no <img {marker}>"
    src = re.search(r'src="data:image/png;base64,([^"]+)"', tag.group(0))
    assert src, tag.group(0)
    return base64.b64decode(src.group(1))


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)
