"""Move this process's wall clock as far as the test run's (``pytest --clock-shift-days N``).

The suite puts this folder on ``PYTHONPATH`` and sets ``REFLEXION_TEST_CLOCK_SHIFT`` (seconds)
for every process it starts (RQ workers, ``make run``'s runner, spawned bookers), so that they
all live on the same shifted day as the test itself. Monotonic clocks and sleeps are untouched.
"""
import os

_shift = os.environ.get("REFLEXION_TEST_CLOCK_SHIFT")
if _shift:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_shift), tick=True).start()
