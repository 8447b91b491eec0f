"""``python -m kiosk.cli``: the ``kiosk`` command."""

from kiosk.cli import main

main()
