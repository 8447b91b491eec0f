"""Loading the kiosk's Kivy rules (.kv files), each once, shared rules first.

Start-up parses only the shared rules and the welcome screen's; every other screen
loads its own rules when it is first built (Kivy showcase style).
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

UI_DIR = Path(__file__).parent
SCREENS_DIR = UI_DIR / "screens"
SHARED = (UI_DIR / "widgets.kv", SCREENS_DIR / "base.kv")
_loaded: set[Path] = set()


def kv_files(*names: str) -> list[Path]:
    """The .kv files in load order: the shared rules, then the screens ``names``."""
    return [*SHARED, *(SCREENS_DIR / f"{name}.kv" for name in names)]


def load_kv(*names: str) -> None:
    """Load the shared rules and those of the screens ``names``, each file once."""
    for path in kv_files(*names):
        if path not in _loaded:
            Builder.load_file(str(path))
            _loaded.add(path)
