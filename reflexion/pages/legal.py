"""The legal pages' own texts: the operator's replacement for a built-in text, rendered safely.

Each legal page (imprint, privacy, terms) has a built-in text in the templates, filled from the
settings. The operator may replace it per language in the settings (``IMPRINT_TEXT_DE``,
``PRIVACY_TEXT_SV`` …); an empty value means the built-in text. A replacement is plain text:
it is escaped, never taken as HTML, and only this much structure is understood:

- a blank line starts a new paragraph; a single line break stays a line break;
- a line starting with ``#`` (one or more) is a heading;
- lines starting with ``- ``, ``* `` or ``• `` form a list, ``1. `` a numbered list.
"""
import re

from markupsafe import Markup, escape

from reflexion.payments.stripe_checkout import enabled as online_payment_enabled

from reflexion.settings import setting

#: The legal pages whose text the operator can replace, by settings-key prefix.
LEGAL_PAGES = ("IMPRINT", "PRIVACY", "TERMS")

_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_HEADING = re.compile(r"^\s*#{1,6}\s*(.*?)\s*#*\s*$")


def own_text_key(page: str, lang: str) -> str:
    """The settings key of ``page``'s replacement text in ``lang``: ``IMPRINT_TEXT_DE``."""
    if page not in LEGAL_PAGES:
        raise ValueError(f"no legal page {page}")
    return f"{page}_TEXT_{lang.upper()}"


def own_text(page: str, lang: str) -> Markup | None:
    """The operator's text for ``page`` in ``lang`` as safe HTML, or None for the built-in text."""
    text = setting(own_text_key(page, lang)) or ""
    if not text.strip():
        return None
    return plain_text_html(text)


def plain_text_html(text: str) -> Markup:
    """Plain text as HTML: escaped; paragraphs, line breaks, headings and simple lists."""
    html = []
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip()):
        html.extend(_block_html([line for line in block.split("\n") if line.strip()]))
    return Markup("\n".join(html))


def _block_html(lines: list[str]) -> list[str]:
    """One block (no blank lines inside) as HTML: runs of text lines, list items and headings."""
    out, run, kind = [], [], None

    def close():
        if not run:
            return
        if kind == "p":
            out.append("<p>" + "<br>\n".join(str(escape(line.strip())) for line in run) + "</p>")
        else:
            items = "".join(f"<li>{escape(item)}</li>" for item in run)
            out.append(f"<{kind}>{items}</{kind}>")

    for line in lines:
        heading, bullet, number = _HEADING.match(line), _BULLET.match(line), _NUMBER.match(line)
        if heading and line.lstrip().startswith("#"):
            close()
            run, kind = [], None
            if heading.group(1):
                out.append(f"<h2>{escape(heading.group(1))}</h2>")
            continue
        this_kind, content = ("ul", bullet.group(1)) if bullet else ("ol", number.group(1)) if number else ("p", line)
        if this_kind != kind:
            close()
            run, kind = [], this_kind
        run.append(content)
    close()
    return out


def connected_payment_provider() -> str | None:
    """The online payment provider the practice has connected, if any (named on the privacy page).

    Bank transfer needs none; Stripe Checkout is connected when its secrets are set (deployment
    secrets in the config, not practice settings: :func:`reflexion.payments.stripe_checkout.enabled`).
    """
    return "Stripe" if online_payment_enabled() else None
