"""Every user-facing string exists in German and Swedish, with the same placeholders."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _source_messages():
    method_map = [("reflexion/**.py", "python"), ("templates/**.html", "jinja2")]
    found = {}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def source_messages():
    messages = _source_messages()
    assert len(messages) > 50  # the extractor really found the app's strings
    return messages


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_every_message_is_translated(source_messages, lang):
    path = ROOT / "reflexion" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
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
