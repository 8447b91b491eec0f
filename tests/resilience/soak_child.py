"""A helper process of the soak (sandbox, card) driven by JSON lines on its stdin."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class ChildError(RuntimeError):
    pass


def serve_commands(
    serve: Callable[[dict[str, Any]], dict[str, Any]], errors: tuple[type[Exception], ...]
) -> None:
    """The child's side: one JSON command a line on stdin, until ``quit`` or the end of
    stdin; one JSON answer a line on stdout (an exception of ``errors`` is answered
    ``{"ok": false, "error": ...}``)."""
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("op") == "quit":
            break
        try:
            answer = serve(command)
        except errors as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class JsonChild:
    """``python -m MODULE ARGS…`` from the repository's root; :meth:`ask` sends one
    command and waits (at most ``timeout`` seconds) for its one-line answer."""

    def __init__(self, module: str, *args: str, timeout: float = 30.0) -> None:
        self.module = module
        self.timeout = timeout
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self._selector.register(self.process.stdout, selectors.EVENT_READ)

    def read(self) -> dict[str, Any]:
        """The next line the child writes, as JSON."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.timeout
        while not self._selector.select(max(0.0, deadline - time.monotonic())):
            if time.monotonic() >= deadline:
                raise ChildError(f"{self.module}: no answer within {self.timeout:g} s")
        line = self.process.stdout.readline()
        if not line:
            raise ChildError(f"{self.module} ended (exit {self.process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, op: str, **fields: object) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        answer = self.read()
        if not answer.get("ok"):
            raise ChildError(f"{self.module} {op}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            try:
                self.process.stdin.write('{"op": "quit"}\n')
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._selector.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
