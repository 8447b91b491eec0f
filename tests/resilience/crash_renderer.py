"""A receipt renderer that hangs, for the crash test's "while the receipt prints": it
writes its pid to the file named by its argument, takes the job, and never finishes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

Path(sys.argv[1]).write_text(str(os.getpid()), encoding="ascii")
sys.stdin.read()
time.sleep(120)
