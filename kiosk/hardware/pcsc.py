"""PC/SC through pyscard's low-level ``scard`` API: readers, connections, card events.

We do not use pyscard's ``CardMonitor``: it is a process-wide singleton whose thread
ends silently when pcscd goes away (pyscard issue #82). :class:`CardMonitor` here runs
its own ``SCardGetStatusChange`` loop, re-establishes the context when pcscd restarts,
watches reader arrival and removal through the PnP pseudo-reader, and matches readers
by name (they may come back in another order).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from smartcard import scard

from kiosk.hardware.card_errors import (
    CardError,
    CardRemoved,
    MuteCard,
    NoCard,
    PcscUnavailable,
    ReaderNotFound,
)

log = logging.getLogger(__name__)

PNP_READER = "\\\\?PnP?\\Notification"

_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_F_COMM_ERROR,
}
_NO_CARD = {scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD}
_NO_READER = {
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_NO_READERS_AVAILABLE,
}
_MUTE = {
    scard.SCARD_W_UNRESPONSIVE_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_E_PROTO_MISMATCH,
    scard.SCARD_E_INVALID_ATR,
}


def _message(hresult: int) -> str:
    return str(scard.SCardGetErrorMessage(hresult)).strip()


def _as_bytes(values: object) -> bytes:
    return bytes(values) if isinstance(values, list | bytes | bytearray) else b""


class PcscContext:
    """An ``SCARDCONTEXT`` that is re-established when pcscd has gone and come back."""

    def __init__(self) -> None:
        self._handle: int | None = None

    @property
    def handle(self) -> int:
        if self._handle is None:
            hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != scard.SCARD_S_SUCCESS:
                raise PcscUnavailable(f"pcscd is not running ({_message(hresult)})")
            self._handle = handle
        return self._handle

    def invalidate(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            scard.SCardReleaseContext(handle)

    def cancel(self) -> None:
        """Wake a blocked ``SCardGetStatusChange`` on this context (any thread)."""
        if self._handle is not None:
            scard.SCardCancel(self._handle)

    def readers(self) -> list[str]:
        for attempt in (1, 2):
            hresult, readers = scard.SCardListReaders(self.handle, [])
            if hresult == scard.SCARD_S_SUCCESS:
                return list(readers)
            if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
                return []
            if hresult in _SERVICE_GONE and attempt == 1:
                self.invalidate()  # pcscd restarted since: one fresh context, then give up
                continue
            raise PcscUnavailable(f"cannot list readers ({_message(hresult)})")
        raise PcscUnavailable("pcscd is not running")

    def card_atrs(self) -> dict[str, bytes | None]:
        """Every reader with the ATR of its card (None when empty), without connecting."""
        readers = self.readers()
        if not readers:
            return {}
        states = [(r, scard.SCARD_STATE_UNAWARE) for r in readers]
        hresult, new_states = scard.SCardGetStatusChange(self.handle, 0, states)
        if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
            raise PcscUnavailable(f"cannot read reader states ({_message(hresult)})")
        return {
            name: _as_bytes(atr) if state & scard.SCARD_STATE_PRESENT else None
            for name, state, atr in new_states
        }

    def connect(self, reader: str) -> CardConnection:
        return CardConnection(self, reader)

    def close(self) -> None:
        self.invalidate()


class CardConnection:
    """A shared connection to the card in one reader; implements ``apdu.Channel``.

    ``deadline`` (``time.monotonic()``): past it, no APDU is sent any more
    (:class:`MuteCard`), so a read abandoned by its caller stops at the APDU in flight
    instead of talking to the card for as long as the card keeps answering."""

    deadline: float = math.inf

    def __init__(self, context: PcscContext, reader: str) -> None:
        self.reader = reader
        hresult, hcard, protocol = scard.SCardConnect(
            context.handle,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hresult != scard.SCARD_S_SUCCESS:
            raise _connect_error(hresult, reader)
        self._hcard: int | None = hcard
        self._protocol = protocol
        hresult, _name, _state, _proto, atr = scard.SCardStatus(hcard)
        if hresult != scard.SCARD_S_SUCCESS:
            self.close()
            raise _connect_error(hresult, reader)
        self.atr = _as_bytes(atr)

    def transmit_raw(self, apdu: bytes) -> bytes:
        if self._hcard is None:
            raise CardRemoved("connection already closed")
        if time.monotonic() > self.deadline:
            raise MuteCard(f"the card in {self.reader!r} did not finish within the deadline")
        hresult, response = scard.SCardTransmit(self._hcard, self._protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            raise _transmit_error(hresult, self.reader)
        if len(response) < 2:  # vpcd answers nothing when the card goes mid-APDU
            raise CardRemoved(f"the card in {self.reader!r} stopped answering")
        return bytes(response)

    def close(self) -> None:
        hcard, self._hcard = self._hcard, None
        if hcard is not None:
            scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _connect_error(hresult: int, reader: str) -> CardError:
    if hresult in _NO_CARD:
        return NoCard(f"no card in reader {reader!r}")
    if hresult in _NO_READER:
        return ReaderNotFound(f"reader {reader!r} is not connected")
    if hresult in _MUTE:
        return MuteCard(f"the card in {reader!r} does not answer ({_message(hresult)})")
    if hresult in _SERVICE_GONE:
        return PcscUnavailable(f"pcscd went away ({_message(hresult)})")
    return CardError(f"cannot connect to the card in {reader!r} ({_message(hresult)})")


def _transmit_error(hresult: int, reader: str) -> CardError:
    if hresult in _NO_CARD or hresult == scard.SCARD_W_RESET_CARD:
        return CardRemoved(f"the card was removed from {reader!r} during the read")
    if hresult in _NO_READER:
        return ReaderNotFound(f"reader {reader!r} disappeared during the read")
    if hresult in _SERVICE_GONE:
        return PcscUnavailable(f"pcscd went away during the read ({_message(hresult)})")
    # vpcd and real readers report a dropped card mid-APDU as a transaction failure.
    return CardRemoved(f"the card in {reader!r} stopped answering ({_message(hresult)})")


# --- events -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardEvent:
    reader: str
    inserted: bool
    atr: bytes = b""
    at: float = 0.0  # time.monotonic() when the monitor saw it


class CardMonitor:
    """Calls ``on_event`` (on the monitor's thread) for every insertion and removal.

    Survives pcscd restarts: when the service goes away every known card is reported
    removed, the context is re-established with a back-off, and cards present when it
    comes back are reported inserted. ``on_service(up: bool)`` reports the daemon's state.
    """

    def __init__(
        self,
        on_event: Callable[[CardEvent], None],
        on_service: Callable[[bool], None] | None = None,
        *,
        poll_ms: int = 1000,
    ) -> None:
        self._on_event = on_event
        self._on_service = on_service or (lambda _up: None)
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self._context = PcscContext()
        self._present: dict[str, bytes] = {}
        self._counts: dict[str, int] = {}
        self._thread = threading.Thread(target=self._run, name="card-monitor", daemon=True)
        self.service_up = False

    def start(self) -> CardMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._context.cancel()
        self._thread.join(timeout=5)
        self._context.close()

    def present(self) -> dict[str, bytes]:
        return dict(self._present)

    def _set_service(self, up: bool) -> None:
        if up != self.service_up:
            self.service_up = up
            log.info("pcscd %s", "available" if up else "unavailable")
            self._on_service(up)

    def _emit(self, reader: str, inserted: bool, atr: bytes = b"") -> None:
        if inserted:
            self._present[reader] = atr
        else:
            self._present.pop(reader, None)
        try:
            self._on_event(CardEvent(reader, inserted, atr, time.monotonic()))
        except Exception:
            log.exception("card event handler failed")  # never kill the monitor

    def _lost_service(self) -> None:
        for reader in list(self._present):
            self._emit(reader, inserted=False)
        self._context.invalidate()
        self._set_service(False)

    def _run(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            try:
                self._watch()
                delay = 0.1
            except PcscUnavailable as exc:
                log.debug("card monitor: %s", exc)
                self._lost_service()
                self._stop.wait(delay)
                delay = min(delay * 2, 2.0)

    def _watch(self) -> None:
        """One session with pcscd: returns on reader-list change, raises when it goes."""
        readers = self._context.readers()
        self._set_service(True)
        for gone in set(self._present) - set(readers):
            self._emit(gone, inserted=False)
        self._counts.clear()
        states = [(r, scard.SCARD_STATE_UNAWARE) for r in readers]
        states.append((PNP_READER, scard.SCARD_STATE_UNAWARE))
        first = True
        while not self._stop.is_set():
            hresult, new_states = scard.SCardGetStatusChange(
                self._context.handle, 0 if first else self._poll_ms, states
            )
            if hresult == scard.SCARD_E_TIMEOUT:
                first = False
                continue
            if hresult == scard.SCARD_E_CANCELLED:
                return
            if hresult in _SERVICE_GONE or hresult == scard.SCARD_E_NO_SERVICE:
                raise PcscUnavailable(_message(hresult))
            if hresult in _NO_READER:
                return  # a reader vanished between list and wait: list again
            if hresult != scard.SCARD_S_SUCCESS:
                raise PcscUnavailable(_message(hresult))
            states = []
            readers_changed = False
            for name, event_state, atr in new_states:
                states.append((name, event_state & ~scard.SCARD_STATE_CHANGED))
                if name == PNP_READER:
                    readers_changed = readers_changed or (
                        not first and bool(event_state & scard.SCARD_STATE_CHANGED)
                    )
                    continue
                self._reader_state(name, event_state, _as_bytes(atr))
            first = False
            if readers_changed:
                return

    def _reader_state(self, reader: str, state: int, atr: bytes) -> None:
        present = bool(state & scard.SCARD_STATE_PRESENT) and not state & (
            scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_UNKNOWN
        )
        known = reader in self._present
        # pcsc-lite counts card events in the high word: a pull and re-insert between
        # two wake-ups shows as the same ATR with a new count.
        count = (state >> 16) & 0xFFFF
        recount = self._counts.get(reader, count) != count
        self._counts[reader] = count
        if present and (not known or recount or self._present[reader] != atr):
            if known:
                self._emit(reader, inserted=False)
            self._emit(reader, inserted=True, atr=atr)
        elif not present and known:
            self._emit(reader, inserted=False)
