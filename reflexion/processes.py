"""Child processes that never outlive the process that started them."""
import ctypes
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
