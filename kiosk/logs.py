"""Logging for the kiosk: to stderr (the journal under systemd), never patient data.

Libraries are kept at WARNING: signxml logs whole canonicalized assertions at DEBUG,
which would put the patient's INS (the VIHF resource-id) in the journal.
"""

from __future__ import annotations

import logging
import os

QUIET = ("signxml", "kivy", "PIL", "fpdf", "fontTools")


def setup_logging(level: int = logging.INFO) -> None:
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy must not take over the root logger
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
