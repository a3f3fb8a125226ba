"""The benchmark scripts still run against today's schema and rules (their figures are in the
README): each is started as a user starts it, with a small workload, and must print its table."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script, args, expected", [
    ("pages.py", ["--requests", "2"], "booking page (confirmed), later views"),
    ("slots.py", [], "5000"),
    ("panel_partial.py", ["--requests", "40", "--rounds", "1", "--clients", "2", "--workers", "1"], "partial / bare ="),
    ("booking_post.py", ["--contenders", "4", "--contended-slots", "1", "--concurrency", "2", "--workers", "1"],
     "booking"),
])
def test_the_benchmark_runs_and_prints_its_figures(script, args, expected):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-2000:]
