"""What the simulation tooling (demo, autopilot, Xvfb) reports as a one-line failure."""

from __future__ import annotations


class SimulationError(RuntimeError):
    pass
