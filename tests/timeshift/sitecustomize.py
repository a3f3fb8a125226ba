"""Move this process's wall clock as far as the test run's (``pytest --clock-shift-days N``).

The suite puts this folder on ``PYTHONPATH`` and sets ``REFLEXION_TEST_CLOCK_SHIFT`` (seconds)
for every process it starts (RQ workers, ``make run``'s runner, spawned bookers), so that they
all live on the same shifted day as the test itself. Monotonic clocks and sleeps are untouched.
"""
import os


def move_clock(seconds: float):
    """Shift ``time.time()``, ``datetime.now()`` … by ``seconds`` from now on; return the traveller."""
    import time

    import time_machine

    traveller = time_machine.travel(time.time() + seconds, tick=True)
    traveller.start()
    time.time()  # time-machine starts ticking at the first read: read now, or the clock lags behind
    return traveller


if os.environ.get("REFLEXION_TEST_CLOCK_SHIFT"):
    move_clock(float(os.environ["REFLEXION_TEST_CLOCK_SHIFT"]))
