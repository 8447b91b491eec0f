"""Drives the real Kivy app's pharmacist admin under Xvfb; prints one JSON line.

Run as a subprocess by tests/ui/test_admin.py (one Kivy window per process). The
journey behind the app is real but idle: no Vitale is inserted and no DMP call is made.
The CPS is: this driver emulates it in vpcd slot 1 (pcscd must run) and the PIN is
typed on the admin keypad, wrong then right.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any


def main(work: Path) -> None:
    from kiosk.sim.xvfb import ensure_display

    xvfb = ensure_display()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ["KIVY_LOG_MODE"] = "PYTHON"
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.billing.consent_record import ConsentRecord
    from kiosk.billing.keys import load_or_create_keys
    from kiosk.billing.ledger import Ledger
    from kiosk.core.admin_actions import AdminActions
    from kiosk.core.code_gate import CodeGate, WrongCode
    from kiosk.core.cps_session import pcsc_cps_session
    from kiosk.core.journey import Journey, Services
    from kiosk.core.lazy import Lazy
    from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
    from kiosk.dmp.client import DmpClient
    from kiosk.dmp.transport import HttpsTransport
    from kiosk.dmp.vihf import VihfSigner
    from kiosk.sim.data import DEMO_CPS
    from kiosk.sim.emulators.profiles import load_emulator
    from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
    from kiosk.sim.sandbox.pki import ensure_pki
    from kiosk.ui.app import AdminContext, KioskApp
    from kiosk.ui.screens.admin import ADMIN, AdminKey

    cps_card = VpcdCard(load_emulator(DEMO_CPS), slot_port(1)).insert()
    cps = pcsc_cps_session()
    cps.inserted()  # what the card monitor does when the CPS arrives
    state = work / "state"
    gate = CodeGate(hashed_code_checker(hash_code("2468")), state)  # first, as on a new kiosk
    ledger = Ledger(state / "ledger.db", load_or_create_keys(state, "kiosk-ui"))
    consent = ConsentRecord("v", "ab" * 32, True, True, True, False, "fr", "10001234567")
    now = dt.datetime.now(dt.UTC)
    for i in range(3):
        act = ledger.begin("DMP_OPEN", "10001234567", f"28005751234{i:04d}", consent, at=now)
        ledger.finish(act, "confirmed", at=now)
    folder = work / "usb"
    folder.mkdir()
    (folder / "paiements.csv").write_text(
        "date_paiement;reference;montant;periode_debut;periode_fin\n"
        f"{now:%Y-%m-%d};ROSP-UI;2,00;{now.year}-01-01;{now.year}-12-31\n",
        encoding="utf-8",
    )
    pki = ensure_pki(work / "pki")  # a client that is never called: the journey stays idle
    client = DmpClient(
        HttpsTransport(pki.ca, pki.auth, pki.auth_key),
        "https://127.0.0.1:9/si-dmp-server/v2/services",
        VihfSigner.from_files(pki.sign_key, pki.sign, "3750012345"),
    )
    services = Services(
        read_vitale=lambda: (_ for _ in ()).throw(RuntimeError("no card in this test")),
        client=Lazy.of(client),
        ledger=Lazy.of(ledger),
        practitioner=lambda: None,
        rpps=lambda: "10001234567",
        check_code=lambda _code: WrongCode(2),
    )
    context = AdminContext(
        gate,
        Lazy.of(AdminActions(Lazy.of(ledger), folder, state)),
        lambda: cps.status,
        lambda pin: cps.enter_pin(pin)[1],
    )
    app = KioskApp(Journey(services), size=(800, 480), admin=context)
    result: dict[str, Any] = {}

    from kivy.tests.common import UnitTestTouch  # a real MotionEvent through the window

    corner: list[Any] = []

    def press_keys(text: str) -> None:
        screen = app.admin_screen()
        keys = {w.text: w for w in screen.walk() if isinstance(w, AdminKey)}
        for char in text:
            keys[char].trigger_action(duration=0)
        ok = next(w for w in screen.walk() if getattr(w, "text", "") == "OK")
        ok.trigger_action(duration=0)

    def button(text: str) -> Any:
        return next(w for w in app.admin_screen().walk() if getattr(w, "text", "") == text)

    def step1(_dt: float) -> None:
        touch = UnitTestTouch(5, Window.height - 5)  # the top-left corner
        corner.append(touch)
        touch.touch_down()
        Clock.schedule_once(step2, 2.3)  # held for more than 2 s

    def step2(_dt: float) -> None:
        manager = app.manager
        assert manager is not None
        corner[0].touch_up()
        result["opened"] = manager.current == ADMIN
        press_keys("1111")
        result["checking_code"] = app.admin_screen().message  # the check runs on a thread
        Clock.schedule_once(step2b, 0.6)

    def step2b(_dt: float) -> None:
        screen = app.admin_screen()
        result["wrong_code"] = screen.message
        result["unlocked_with_wrong"] = bool(screen.unlocked)
        press_keys("2468")
        Clock.schedule_once(step2c, 0.6)

    def step2c(_dt: float) -> None:
        screen = app.admin_screen()
        result["unlocked"] = bool(screen.unlocked)
        result["year_text"] = screen.year_text
        button("Importer les paiements").trigger_action(duration=0)
        result["import_message"] = screen.message
        result["money_text"] = screen.money_text
        button("Exporter (CSV + PDF)").trigger_action(duration=0)
        result["export_message"] = screen.message
        result["exports"] = sorted(p.suffix for p in folder.glob("dmp-remuneration-*"))
        Clock.schedule_once(step3, 0.3)

    def step3(_dt: float) -> None:
        shot = Window.screenshot(name=str(work / "admin.png"))
        result["screenshot"] = shot
        result["cps_before"] = app.admin_screen().cps
        button("Code CPS").trigger_action(duration=0)
        result["pin_keypad"] = bool(app.admin_screen().entering_pin)
        for key in "99":
            next(w for w in app.admin_screen().walk() if getattr(w, "text", "") == key and
                 isinstance(w, AdminKey)).trigger_action(duration=0)  # fmt: skip
        Clock.schedule_once(step3b, 0.3)

    def step3b(_dt: float) -> None:
        result["keypad_screenshot"] = Window.screenshot(name=str(work / "admin-keypad.png"))
        result["dots"] = app.admin_screen().code == "99"
        press_keys("99")  # 9999 in all
        Clock.schedule_once(step4, 0.5)  # the VERIFY runs on a thread

    def step4(_dt: float) -> None:
        screen = app.admin_screen()
        result["wrong_pin_message"] = screen.message
        result["cps_after_wrong"] = screen.cps
        button("Code CPS").trigger_action(duration=0)
        press_keys("1234")
        Clock.schedule_once(step5, 0.5)

    def step5(_dt: float) -> None:
        screen = app.admin_screen()
        result["right_pin_message"] = screen.message
        result["cps_after_right"] = screen.cps
        result["pin_screenshot"] = Window.screenshot(name=str(work / "admin-cps.png"))
        button("Fermer").trigger_action(duration=0)
        assert app.manager is not None
        result["after_close"] = app.manager.current
        result["locked_after_close"] = not app.admin_screen().unlocked
        app.stop()

    Clock.schedule_once(step1, 0.5)
    try:
        app.run()
    finally:
        cps_card.pull()
    ledger.close()
    if xvfb is not None:
        xvfb.terminate()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
