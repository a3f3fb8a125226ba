"""Instance folder 0700; database, secret key and outbox e-mails 0600 — from the start, under umask 022."""
import os
import stat
from email.message import EmailMessage

import pytest

from reflexion import create_app
from reflexion.extensions import db


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_instance_database_secret_and_outbox_are_private(tmp_path, redis_server, loose_umask, monkeypatch):
    instance = tmp_path / "instance"
    secret = instance / "secret_key"
    real_chmod = os.chmod

    def no_late_chmod(path, *args, **kwargs):  # the secret must be created private, not tightened later
        assert os.fspath(path) != os.fspath(secret), "secret_key written first and chmodded afterwards"
        return real_chmod(path, *args, **kwargs)

    monkeypatch.setattr(os, "chmod", no_late_chmod)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": None, "INSTANCE_DIR": str(instance), "REDIS_URL": redis_server.url,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'reflexion.sqlite3'}", "NTP_SERVERS": []})
    assert _mode(instance) == 0o700
    assert _mode(secret) == 0o600 and len(secret.read_text()) > 40
    with app.app_context():
        db.create_all()
        assert _mode(instance / "reflexion.sqlite3") == 0o600
        from reflexion.mail.transport import write_outbox

        message = EmailMessage()
        message["Subject"] = "Hej"
        message.set_content("personal data")
        path = write_outbox(message, email_id=1, kind="test")
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
        db.engine.dispose()


def test_an_existing_world_readable_instance_folder_is_tightened(tmp_path, redis_server, loose_umask):
    instance = tmp_path / "old-instance"
    instance.mkdir(mode=0o755)
    create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_DIR": str(instance), "REDIS_URL": redis_server.url,
                "SQLALCHEMY_DATABASE_URI": "sqlite://", "NTP_SERVERS": []})
    assert _mode(instance) == 0o700
