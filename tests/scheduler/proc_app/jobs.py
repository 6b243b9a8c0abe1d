import os
import time
from datetime import datetime


def append(now: datetime | None = None) -> int:
    """One line per run, appended in one write (O_APPEND), so runs from two processes never mix."""
    line = f"{os.getpid()} {time.time():.3f}\n".encode()
    fd = os.open(os.environ["TEST_JOB_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return 1
