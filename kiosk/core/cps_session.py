"""The pharmacist's CPS: inserted or not, PIN entered or not, tries left.

The pharmacist enters the PIN once per opening of the shop, on the admin screen; it is
sent to the card in exactly one VERIFY and never stored or retried. The card keeps its
verified state while it stays powered in the reader; pulling it (or a pcscd restart,
which powers it off) forgets the pharmacist until the PIN is entered again. Before each
journey uses the pharmacist, :meth:`CpsSession.practitioner` asks the card, at no cost
in tries, whether it is still verified.

No Kivy here; card I/O happens on the caller's thread (the journey's worker, or a
thread the admin screen starts).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.core.lazy import Lazy
from kiosk.hardware.card_errors import CardError, InvalidPin, PinBlocked, PinRequired, PinWrong
from kiosk.hardware.cards import CPS_PIN_MAX_TRIES, CpsCard
from kiosk.hardware.roles import Role
from kiosk.logs import event
from kiosk.messages import MessageEnum, MessageFields

if TYPE_CHECKING:  # the PIN's rules and the practitioner's traits: loaded on first use,
    # after the welcome screen is drawn
    from kiosk.dmp.models import Practitioner
    from kiosk.hardware.cps_link import CpsLink

log = logging.getLogger(__name__)


class CpsState(enum.Enum):
    ABSENT = "absent"
    NEEDS_PIN = "needs_pin"
    READY = "ready"
    BLOCKED = "blocked"
    UNREADABLE = "unreadable"
    NOT_PHARMACIST = "not_pharmacist"  # PIN right, but another profession: no DMP opened
    EXPIRED = "expired"  # PIN right, but the card's validity has ended
    OTHER_STRUCTURE = "other_structure"  # PIN right, but the card names other structures


PHARMACIST = "21"  # the CPS profession code of a pharmacist (any CNOP section: A, DA…)


@dataclass(frozen=True, slots=True)
class CpsStatus:
    state: CpsState
    tries_left: int | None = None
    holder: str = ""  # "Claire DUPONT" once the PIN is entered (the identity is PIN-protected)
    rpps: str = ""

    @property
    def key(self) -> str:
        """The message this status is, for the admin and the pharmacist's line."""
        if self.state is CpsState.NEEDS_PIN and self.tries_left is not None:
            return "cps.needs_pin_tries"
        return f"cps.{self.state.value}"

    def args(self) -> Mapping[str, object]:
        return {"holder": self.holder, "tries_left": self.tries_left}


class PinEntry(MessageEnum):
    """What became of a CPS PIN typed on the admin keypad."""

    ACCEPTED = "cps.pin_accepted"
    NOT_SENT = "cps.pin_not_sent"  # not 4 to 8 digits: nothing reached the card
    BLOCKED = "cps.pin_blocked"
    NO_CARD = "cps.pin_no_card"
    NO_ANSWER = "cps.pin_no_answer"
    FAILED = "cps.pin_failed"  # the exchange failed unexpectedly
    CARD_REFUSED = "cps.pin_card_refused"  # the PIN is right, the card may not open DMPs


@dataclass(frozen=True, slots=True)
class PinRefused(MessageFields):
    tries_left: int
    key = "cps.pin_wrong"


PinAnswer = PinEntry | PinRefused


# Reads the CPS in the pharmacist's reader: with a PIN (one VERIFY), or without (raises
# PinRequired with the tries left when the card session is not verified).
CpsReader = Callable[[str | None], CpsCard]


def pcsc_cps_session(
    overrides: Mapping[Role, str] | None = None,
    on_change: Callable[[CpsStatus], None] | None = None,
    structure_id: str = "",
) -> CpsSession:
    """A session on the CPS in the pharmacist's reader, through pcscd, holding its
    connection so the card stays powered and its PIN entered (:mod:`kiosk.hardware.cps_link`).
    ``structure_id``: the kiosk's (``[dmp] structure_id``), which the card must name when
    it names structures (:func:`refusal`)."""
    link: Lazy[CpsLink] = Lazy(lambda: _cps_link(overrides))  # pyscard loads on first use

    def release() -> None:
        if link.built:
            link().release()

    return CpsSession(lambda pin: link().read(pin), on_change, release=release,
                      structure_id=structure_id)  # fmt: skip


def _cps_link(overrides: Mapping[Role, str] | None) -> CpsLink:
    from kiosk.hardware.cps_link import CpsLink

    return CpsLink(overrides)


class CpsSession:
    def __init__(
        self,
        read: CpsReader,
        on_change: Callable[[CpsStatus], None] | None = None,
        release: Callable[[], None] = lambda: None,
        today: Callable[[], dt.date] = dt.date.today,
        structure_id: str = "",
    ) -> None:
        self._read = read
        self._today = today
        self._structure_id = structure_id
        self._release = release
        self._on_change = on_change or (lambda _status: None)
        self._lock = threading.Lock()  # the state
        self._io = threading.RLock()  # a card exchange and the state it leads to, as one
        self._card: CpsCard | None = None
        self._status = CpsStatus(CpsState.ABSENT)

    @property
    def status(self) -> CpsStatus:
        return self._status

    def _set(self, status: CpsStatus, card: CpsCard | None = None) -> CpsStatus:
        with self._lock:
            changed = status != self._status
            self._status, self._card = status, card
        if changed:
            event(  # never the PIN, never the holder
                log, "cps.state", f"CPS {status.state.value}", state=status.state.value,
                tries_left=status.tries_left,
            )  # fmt: skip
        self._on_change(status)
        return status

    # -- card events (on the kiosk's CPS worker) --------------------------------------------

    def inserted(self) -> CpsStatus:
        """A CPS came in: ask it whether its PIN is entered (costs no try)."""
        return self.refresh()

    def removed(self) -> CpsStatus:
        with self._io:
            self._release()
            return self._set(CpsStatus(CpsState.ABSENT))

    def refresh(self) -> CpsStatus:
        with self._io:
            return self._refresh()

    def _refresh(self) -> CpsStatus:
        try:
            card = self._read(None)
        except PinRequired as exc:
            return self._set(CpsStatus(CpsState.NEEDS_PIN, exc.tries_left))
        except PinBlocked:
            return self._set(CpsStatus(CpsState.BLOCKED, 0))
        except CardError as exc:
            log.warning("CPS not readable: %s", type(exc).__name__)
            return self._set(CpsStatus(CpsState.ABSENT if _absent(exc) else CpsState.UNREADABLE))
        return self._set(self._judged(card), card)

    def _judged(self, card: CpsCard) -> CpsStatus:
        """READY only for a pharmacist's card still valid today, attached to this pharmacy
        when it says where it works: a physician's CPS, an expired one, or another
        pharmacy's must not sign this pharmacy's DMP openings (checked before any call)."""
        holder = f"{card.first_name} {card.last_name}"
        tries = card.pin_tries_left or CPS_PIN_MAX_TRIES
        state = refusal(card, self._today(), self._structure_id) or CpsState.READY
        return CpsStatus(state, tries, holder, card.rpps)

    # -- the pharmacist -------------------------------------------------------------------

    def enter_pin(self, pin: str) -> tuple[CpsStatus, PinAnswer]:
        """One VERIFY with ``pin``; the new status and what to tell the pharmacist."""
        with self._io:
            return self._enter_pin(pin)

    def _enter_pin(self, pin: str) -> tuple[CpsStatus, PinAnswer]:
        from kiosk.hardware.cps import check_pin_format

        try:
            check_pin_format(pin)  # a typo costs no try: nothing reaches the card
            card = self._read(pin)
        except InvalidPin:
            return self._status, PinEntry.NOT_SENT
        except PinWrong as exc:
            status = self._set(CpsStatus(CpsState.NEEDS_PIN, exc.tries_left))
            return status, PinRefused(exc.tries_left)
        except PinBlocked:
            return self._set(CpsStatus(CpsState.BLOCKED, 0)), PinEntry.BLOCKED
        except CardError as exc:
            log.warning("CPS PIN entry failed [%s]: %s", exc.problem.key, type(exc).__name__)
            status = self._refresh()
            if status.state is CpsState.ABSENT:
                return status, PinEntry.NO_CARD
            return status, PinEntry.NO_ANSWER
        status = self._set(self._judged(card), card)
        return (
            status,
            PinEntry.ACCEPTED if status.state is CpsState.READY else PinEntry.CARD_REFUSED,
        )

    def practitioner(self) -> Practitioner | None:
        """The pharmacist, when the CPS in the reader is verified: asked anew each time
        (no try spent), since a card reset (pulled, pcscd restarted) forgets the PIN."""
        from kiosk.dmp.traits import practitioner_from_cps

        if self._status.state in (CpsState.ABSENT, CpsState.BLOCKED):
            return None
        with self._io:
            status = self._refresh()
            with self._lock:
                card = self._card
        return practitioner_from_cps(card) if status.state is CpsState.READY and card else None

    def rpps(self) -> str:
        with self._lock:
            return self._card.rpps if self._card is not None else ""


def refusal(card: CpsCard, today: dt.date, structure_id: str = "") -> CpsState | None:
    """Why this card may not open a DMP for the pharmacy ``structure_id`` (the VIHF's
    Identifiant_Structure), or None: another profession than pharmacist (any CNOP
    section, adjoints included), past its validity, or attached to other structures only.

    A card that names no structure (no situation d'exercice on it) is accepted: nothing
    on it says it works elsewhere, and the service checks the VIHF's structure against
    the pharmacy's certificate anyway. An empty ``structure_id`` checks no structure."""
    if card.profession != PHARMACIST:
        return CpsState.NOT_PHARMACIST
    if _valid_until(card.valid_until) < today:
        return CpsState.EXPIRED
    if structure_id and card.structures and structure_id not in card.structures:
        return CpsState.OTHER_STRUCTURE
    return None


def _valid_until(text: str) -> dt.date:
    """The card's last valid day (YYYYMMDD); an unreadable date counts as expired."""
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return dt.date.min


def _absent(exc: CardError) -> bool:
    from kiosk.hardware.card_errors import CardRemoved, NoCard

    return isinstance(exc, NoCard | CardRemoved)
