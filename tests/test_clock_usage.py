"""Business time comes only from ``reflexion.clock``: no other module reads the wall clock.

Walks every module under ``reflexion/`` with :mod:`ast` and fails on
``datetime.now/utcnow/today``, ``date.today``, ``time.time``/``time_ns``, argument-less
``time.localtime/gmtime/ctime/asctime``, one-argument ``time.strftime`` and the database's
own clock (``func.now``/``current_timestamp``) — called or passed as a default, under any
import alias. ``time.monotonic``/``perf_counter`` (durations) are fine.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reflexion"
ALLOWED = PACKAGE / "clock"

FORBIDDEN = {
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "time.time", "time.time_ns",
}
FORBIDDEN_WITHOUT_ARGS = {"time.localtime", "time.gmtime", "time.ctime", "time.asctime"}
DATABASE_CLOCK = {"now", "current_timestamp", "localtimestamp", "sysdate", "utc_timestamp", "current_date",
                  "current_time"}
HINT = "use reflexion.clock.now() (business time) or time.monotonic() (durations)"


def _aliases(tree) -> dict[str, str]:
    """Local name -> qualified name, from every import in the module."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def wall_clock_reads(source: str, filename: str = "<source>") -> list[str]:
    """Return ``file:line: expression`` for every read of the wall clock in ``source``."""
    tree = ast.parse(source, filename)
    aliases = _aliases(tree)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Attribute, ast.Name)) or not isinstance(node.ctx, ast.Load):
            continue
        if isinstance(parents.get(node), ast.Attribute):
            continue  # judge the whole chain once, at its outermost attribute
        parts = _dotted(node)
        if not parts:
            continue
        qualified = ".".join([aliases.get(parts[0], parts[0]), *parts[1:]])
        call = parents.get(node)
        call = call if isinstance(call, ast.Call) and call.func is node else None
        bad = qualified in FORBIDDEN
        bad |= qualified in FORBIDDEN_WITHOUT_ARGS and call is not None and not call.args
        bad |= qualified == "time.strftime" and call is not None and len(call.args) == 1
        bad |= len(parts) >= 2 and parts[-2] == "func" and parts[-1].lower() in DATABASE_CLOCK
        if bad:
            found.append(f"{filename}:{node.lineno}: {'.'.join(parts)} ({qualified})")
    return found


def test_no_module_outside_reflexion_clock_reads_the_wall_clock():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ALLOWED in path.parents:
            continue
        offenders += wall_clock_reads(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    assert not offenders, f"{HINT}:\n" + "\n".join(offenders)


def test_the_clock_module_itself_never_sets_the_system_clock():
    source = "\n".join(p.read_text(encoding="utf-8") for p in ALLOWED.rglob("*.py"))
    for setter in ("clock_settime", "settimeofday", "adjtime", "stime(", "hwclock", "date -s", "timedatectl"):
        assert setter not in source


@pytest.mark.parametrize(
    "source",
    [
        "import datetime\nx = datetime.datetime.now()",
        "import datetime as dt\nx = dt.datetime.utcnow()",
        "from datetime import datetime\nx = datetime.now(timezone.utc)",
        "from datetime import datetime as DT\nx = DT.today()",
        "from datetime import date\nx = date.today()",
        "import time\nx = time.time()",
        "import time as t\nx = t.time_ns()",
        "from time import time\nx = time()",
        "from time import time as wall\nx = wall()",
        "import time\nx = time.localtime()",
        "import time\nx = time.strftime('%H:%M')",
        "from datetime import datetime\nColumn(default=datetime.now)",
        "from sqlalchemy import func\nColumn(server_default=func.now())",
        "x = db.func.current_timestamp()",
    ],
)
def test_the_checker_catches_every_way_of_reading_the_wall_clock(source):
    assert wall_clock_reads(source)


@pytest.mark.parametrize(
    "source",
    [
        "import time\nstarted = time.monotonic(); time.sleep(0.1); time.perf_counter()",
        "from datetime import datetime, time\nx = datetime.combine(day, time(9, 0))",
        "from reflexion import clock\nx = clock.now()",
        "import time\nx = time.localtime(stamp); y = time.strftime('%H', x)",
        "from datetime import datetime\nx = datetime.fromisoformat(s)",
        "now = clock.now()\nx = now",
    ],
)
def test_the_checker_lets_durations_and_given_instants_pass(source):
    assert wall_clock_reads(source) == []
