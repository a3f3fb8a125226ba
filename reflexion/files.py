"""Private files from the start: folders 0700, files 0600, never briefly readable by others."""
import os
from pathlib import Path


def private_folder(path) -> Path:
    """Create ``path`` (and parents) as 0700; tighten it if it exists with looser rights."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path, data: bytes, *, exclusive=False) -> Path:
    """Write ``data`` to a file created 0600 (``exclusive``: fail if it exists)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return Path(path)


def touch_private(path) -> None:
    """Create an empty 0600 file unless it exists (a SQLite database before SQLite creates it)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
