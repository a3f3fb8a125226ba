"""Processes on this host: children that never outlive their parent; whether a pid still runs."""
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """``preexec_fn``: on Linux, have the kernel send SIGTERM to the child when its parent dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


def process_exists(pid: int) -> bool:
    """Tell whether a process with ``pid`` runs on this host (one of another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
