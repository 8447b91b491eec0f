"""The soak's DMP sandbox, in a process of its own, driven through its stdin.

The soak measures the kiosk's process only, so the service runs here:
``python -m tests.resilience.soak_sandbox DATA_DIR FAULT_DELAY``. A fault can only be
set on a running :class:`SandboxServer` from its own process, and the soak changes it
for every journey: this process reads one JSON command a line on stdin and answers one
JSON line on stdout.

- first line out: ``{"url": ..., "dmp_section": ...}`` (the ``[dmp]`` section of a
  kiosk config for this sandbox, certificate paths absolute);
- ``{"op": "faults", "faults": {"create": "commit_then_reset", "status": "http500@2-"}}``:
  the faults for the next journey, replacing the last ones; ``@N`` counts the calls of
  the operation *from now on* (the sandbox counts over its life: the numbers are shifted
  here), so ``status=http500@2-`` spares the journey's own TD0.2 and hits the ones that
  resolve a lost answer;
- ``{"op": "seed", "entries": [{"ins": ..., "status": "closed"}]}``: DMPs that exist
  before the patient comes (not this structure's);
- ``{"op": "list"}``: ``{"dmps": [...]}``, what the sandbox holds;
- ``{"op": "quit"}`` (or end of stdin): stop.

Every answer is ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kiosk.sim.sandbox.client_config import dmp_section
from kiosk.sim.sandbox.server import SandboxServer, parse_fault
from tests.resilience.soak_child import serve_commands


def shifted(server: SandboxServer, faults: dict[str, str]) -> dict[str, str]:
    """``faults`` with each ``@N[-[M]]`` counted from the operation's next call."""
    out: dict[str, str] = {}
    for op, value in faults.items():
        spec = parse_fault(value)  # checked before anything is changed
        head = value.partition("@")[0]
        if "@" not in value:
            out[op] = head
            continue
        done = server.calls(op)
        first = spec.first + done
        last = "" if spec.last is None else str(spec.last + done)
        out[op] = f"{head}@{first}-{last}" if spec.last != spec.first else f"{head}@{first}"
    return out


def serve(server: SandboxServer, command: dict[str, Any]) -> dict[str, Any]:
    op = command.get("op")
    if op == "faults":
        server.faults = shifted(server, dict(command.get("faults") or {}))
        return {"ok": True}
    if op == "seed":
        server.store.seed(list(command.get("entries") or []))
        return {"ok": True}
    if op == "list":
        return {"ok": True, "dmps": server.store.list()}
    return {"ok": False, "error": f"unknown op {op!r}"}


def main(argv: list[str]) -> int:
    data, delay = Path(argv[0]), float(argv[1])
    server = SandboxServer(data, port=0, fault_delay=delay).start()
    out = sys.stdout
    out.write(json.dumps({"url": server.url, "dmp_section": dmp_section(data, server.url, False)}))
    out.write("\n")
    out.flush()
    try:
        serve_commands(lambda command: serve(server, command), (ValueError, TypeError))
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
