"""The clock shift that ``--clock-shift-days`` gives the suite reaches the processes it starts."""
import os
import subprocess
import sys
from pathlib import Path

TIMESHIFT = Path(__file__).parent / "timeshift"
PRINT_NOW = "import time; from datetime import datetime, timezone; print(time.time(), datetime.now(timezone.utc).timestamp())"


def _child_clock(shift_seconds):
    env = {k: v for k, v in os.environ.items() if k != "REFLEXION_TEST_CLOCK_SHIFT"}
    env["PYTHONPATH"] = str(TIMESHIFT)
    if shift_seconds:
        env["REFLEXION_TEST_CLOCK_SHIFT"] = str(shift_seconds)
    out = subprocess.run([sys.executable, "-c", PRINT_NOW], env=env, capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


def test_a_child_process_lives_on_the_shifted_day():
    shift = 400 * 86400
    plain_time, plain_datetime = _child_clock(0)
    moved_time, moved_datetime = _child_clock(shift)
    assert abs(moved_time - plain_time - shift) < 30  # both clocks moved, by the given shift, and ticking
    assert abs(moved_datetime - moved_time) < 1
    assert abs(plain_datetime - plain_time) < 1
