"""One lasting connection to the pharmacist's CPS.

pcsc-lite powers a card off once no application holds a connection to it (after a short
grace period), and a powered-off CPS forgets that its PIN was entered. The kiosk must
keep the pharmacist authenticated from the opening of the shop, so it holds a shared
connection to the CPS from its first read until the card is pulled (:meth:`release`).

Every read runs under a deadline on a worker thread: a card that stops answering
blocks ``SCardTransmit``, and must not block the journey with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from kiosk.hardware.apdu import ApduError
from kiosk.hardware.card_errors import (
    CardError,
    CardRemoved,
    MalformedCardData,
    MuteCard,
    PcscUnavailable,
    ReaderNotFound,
)
from kiosk.hardware.card_reading import INSERTION_GRACE, resolve_reader, retry_no_card
from kiosk.hardware.cards import CpsCard
from kiosk.hardware.cps import read_cps
from kiosk.hardware.pcsc import CardConnection, PcscContext
from kiosk.hardware.roles import Role

T = TypeVar("T")
DEFAULT_DEADLINE = 10.0


class CpsLink:
    def __init__(
        self, overrides: Mapping[Role, str] | None = None, deadline: float = DEFAULT_DEADLINE
    ) -> None:
        self._overrides = overrides
        self._deadline = deadline
        self._lock = threading.Lock()
        self._context: PcscContext | None = None
        self._connection: CardConnection | None = None

    def read(self, pin: str | None) -> CpsCard:
        """The CPS identity; with ``pin``, exactly one VERIFY first (never re-sent).
        Without a PIN, a connection lost since the last read (card reset or pulled and
        put back) is reopened once: the card then says whether its PIN is still entered."""
        with self._lock:
            try:
                return self._read(pin)
            except CardRemoved:
                self._release()
                if pin is not None:
                    raise
            return self._read(pin)

    def release(self) -> None:
        """Let go of the card (it was pulled): pcscd may power the reader down."""
        with self._lock:
            self._release()

    def _read(self, pin: str | None) -> CpsCard:
        connection = self._connect()
        connection.deadline = time.monotonic() + self._deadline  # an abandoned read stops
        try:
            return self._within_deadline(lambda: read_cps(connection, pin))
        except ApduError as exc:
            raise MalformedCardData(f"the CPS broke the APDU protocol: {exc}") from None
        except (PcscUnavailable, ReaderNotFound):
            self._release()  # pcscd restarted or the reader unplugged: a new context next
            raise

    def _connect(self) -> CardConnection:
        if self._connection is None:
            self._context, self._connection = retry_no_card(self._open, INSERTION_GRACE)
        return self._connection

    def _open(self) -> tuple[PcscContext, CardConnection]:
        context = PcscContext()
        try:
            reader, _role = resolve_reader(context, Role.PROFESSIONAL, self._overrides)
            return context, context.connect(reader)
        except CardError:
            context.close()
            raise

    def _release(self) -> None:
        connection, context = self._connection, self._context
        self._connection = self._context = None
        if connection is not None:
            connection.close()
        if context is not None:
            context.close()

    def _within_deadline(self, work: Callable[[], T]) -> T:
        outcome: dict[str, object] = {}
        abandoned = threading.Event()
        connection, context = self._connection, self._context

        def run() -> None:
            try:
                outcome["value"] = work()
            except Exception as exc:  # noqa: BLE001 - re-raised on the caller's thread
                outcome["error"] = exc
            if abandoned.is_set():  # the caller gave up on this connection: close it now
                if connection is not None:
                    connection.close()
                if context is not None:
                    context.close()

        worker = threading.Thread(target=run, name="cps-read", daemon=True)
        worker.start()
        worker.join(self._deadline)
        if worker.is_alive():
            # stuck in SCardTransmit: a new connection next time, this one closed when
            # the card finally answers or goes
            abandoned.set()
            self._connection = self._context = None
            raise MuteCard(f"the CPS did not answer within {self._deadline:g} s")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["value"]  # type: ignore[return-value]
