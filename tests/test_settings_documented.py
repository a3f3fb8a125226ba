"""Every environment variable the code reads is in the README's settings table; defaults follow PORT."""
import re
from pathlib import Path

from reflexion.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r"""(?:_env|_bool|_list|environ\.get|env\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read():
    sources = [*(ROOT / "reflexion").rglob("*.py"), ROOT / "gunicorn.conf.py"]
    found = {}
    for path in sources:
        for name in READ.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def _settings_section():
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("## Settings"):readme.index("\n## ", readme.index("## Settings") + 1)]


def test_every_setting_the_code_reads_is_in_the_readme():
    variables = _variables_read()
    assert {"PORT", "REFLEXION_PUBLIC_URL", "DATABASE_URL", "HOST"} <= set(variables)  # the scan finds them
    section = _settings_section()
    missing = sorted(f"{name} ({where})" for name, where in variables.items() if f"`{name}`" not in section)
    assert not missing, "settings missing from the README's table: " + ", ".join(missing)


def test_the_public_url_follows_the_port_unless_set(monkeypatch):
    monkeypatch.delenv("REFLEXION_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "8123")
    assert load_settings({"SECRET_KEY": "x"})["PUBLIC_URL"] == "http://localhost:8123"
    monkeypatch.setenv("REFLEXION_PUBLIC_URL", "https://reflexion.example")
    assert load_settings({"SECRET_KEY": "x"})["PUBLIC_URL"] == "https://reflexion.example"
