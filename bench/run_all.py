"""Run every benchmark in ``bench/`` one after another and print their figures (``make bench``).

Each script runs in its own process, on loopback, bounded in time; a failing script is reported
and the rest still run. Arguments after ``--`` go to every script (e.g. ``-- --help``).
Benchmarks report; they assert nothing about speed.
"""
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts():
    """Every benchmark script: a ``.py`` file here that is not a helper (``_*``) or this runner."""
    return sorted(p for p in HERE.glob("*.py")
                  if not p.name.startswith("_") and p.name != Path(__file__).name and not p.name.endswith("_wsgi.py"))


def main(argv):
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    failed = []
    for script in scripts():
        print(f"\n=== {script.name}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script), *extra], cwd=HERE)
        print(f"=== {script.name}: {'ok' if result.returncode == 0 else f'FAILED ({result.returncode})'} "
              f"in {time.monotonic() - started:.1f} s", flush=True)
        if result.returncode:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
