"""What the test suite needs beyond Python packages, found or installed before it runs.

``make test`` runs this first (``python tests/provision.py``); ``conftest.py`` uses the same
look-ups. Each need is looked for in a fixed order and, where nothing is found, installed the
way the platform allows — on Debian/Ubuntu as root from the distribution, elsewhere (for the
browser) by Playwright's own download — or the run stops with one line naming the command to
run. Nothing is ever skipped silently.

- a ``redis-server``: see :func:`reflexion.redis_conn.redis_server_binary` for the order;
- a Chromium for the browser tests: ``REFLEXION_BROWSER`` (a path or a command name), then
  ``chromium``/``chromium-browser``/``google-chrome`` on ``PATH``, then the Chromium that
  ``playwright install chromium`` downloaded;
- the libraries Playwright's driver needs (``libatomic1`` on Debian 12);
- axe-core for the accessibility checks inside the browser tests: ``npm install axe-core`` into
  ``.test-cache/axe`` (used by the tests only, never served by the site).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reflexion.redis_conn import RedisServerMissing, redis_server_binary  # noqa: E402

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class Missing(Exception):
    """Something the tests need is not there and could not be installed; the text says what to run."""


def browser_executable() -> str | None:
    """Return the Chromium the browser tests drive, or ``None`` if there is none."""
    wanted = os.environ.get("REFLEXION_BROWSER")
    if wanted:
        found = shutil.which(wanted)
        if not found:
            raise Missing(f"REFLEXION_BROWSER={wanted} is not an executable browser")
        return found
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found and not _is_snap_stub(found):
            return found
    return _playwright_chromium()


def _is_snap_stub(path):
    """Ubuntu's chromium-browser package is a wrapper that asks for a snap, not a browser."""
    return Path(path).resolve().name == "chromium-browser" and Path("/snap/bin/chromium").exists() is False


def _playwright_chromium():
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:  # the driver itself may not start; see driver_problem()
        return None
    return path if path and Path(path).exists() else None


def driver_problem() -> str | None:
    """Return why Playwright's bundled driver (node) does not start, or ``None`` if it does."""
    result = subprocess.run([sys.executable, "-m", "playwright", "--version"], capture_output=True, text=True)
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip().splitlines()[-1] if (result.stderr or result.stdout) else "failed"


def _debian_root():
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(*packages):
    print(f"* installing {' '.join(packages)} from the distribution (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def ensure_redis():
    try:
        return redis_server_binary()
    except RedisServerMissing:
        if not _debian_root():
            raise
    _apt_install("redis-server")
    return redis_server_binary()


def ensure_driver():
    problem = driver_problem()
    if problem and "libatomic" in problem and _debian_root():
        _apt_install("libatomic1")
        problem = driver_problem()
    if problem:
        hint = "apt-get install libatomic1" if "libatomic" in problem else "python -m playwright install-deps chromium"
        raise Missing(f"Playwright's driver does not start ({problem}); run: {hint}")


def ensure_browser():
    found = browser_executable()
    if found:
        return found
    if _debian_root() and _distribution() == "debian":
        _apt_install("chromium")
        found = browser_executable()
        if found:
            return found
    print("* no Chromium found; trying Playwright's own download (python -m playwright install chromium)", flush=True)
    result = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], capture_output=True, text=True)
    found = browser_executable() if result.returncode == 0 else None
    if not found:
        command = "apt-get install chromium" if _distribution() == "debian" else "python -m playwright install chromium"
        raise Missing(f"the browser tests need Chromium and none could be installed; run: {command} "
                      "(or set REFLEXION_BROWSER to a Chromium executable)")
    return found


def axe_script() -> Path:
    """axe-core's browser script (the npm build), as the ``axe-playwright-python`` wheel ships it.

    Taken from PyPI with the test extras rather than with npm: a fresh machine has Python and
    pip, not Node.js and npm. The wheel's version is pinned in pyproject.toml, so every machine
    runs the same axe-core rules.
    """
    try:
        import axe_playwright_python
    except ImportError:
        raise Missing("the accessibility checks need axe-core: run make install (it comes with the "
                      "test extras, package axe-playwright-python)") from None
    script = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    if not script.exists():
        raise Missing(f"axe-core's script is missing at {script}: reinstall axe-playwright-python")
    return script


def ensure_axe() -> Path:
    return axe_script()


def _distribution():
    try:
        fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    except OSError:
        return ""
    return fields.get("ID", "").strip('"')


def main():
    try:
        redis = ensure_redis()
        ensure_driver()
        browser = ensure_browser()
        axe = ensure_axe()
    except (Missing, RedisServerMissing, subprocess.CalledProcessError) as problem:
        print(f"make test: {problem}", file=sys.stderr)
        return 1
    print(f"* redis-server: {redis}\n* browser: {browser}\n* axe-core: {axe}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
