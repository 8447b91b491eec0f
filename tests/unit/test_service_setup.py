"""The kiosk's service settings that need no device: the watchdog's interval from
systemd's variables, and SDL's video driver on a Pi with no display server."""

from __future__ import annotations

from pathlib import Path

from kiosk.appliance.service_notify import ServiceNotifier, watchdog_interval
from kiosk.ui.kivy_setup import kiosk_environment, video_driver


def test_the_watchdog_is_pinged_at_half_its_interval_and_only_by_its_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}, 42) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 42) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, 42) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, 42) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}, 42) is None
    assert watchdog_interval({}, 42) is None


def test_systemds_variables_are_read_once_and_not_inherited(tmp_path: Path) -> None:
    environ = {"NOTIFY_SOCKET": str(tmp_path / "none"), "WATCHDOG_USEC": "2000000", "HOME": "/"}
    notifier = ServiceNotifier(environ)
    assert (notifier.enabled, notifier.interval) == (True, 1.0)
    assert environ == {"HOME": "/"}
    notifier.ping()  # no listener: nothing raises
    quiet = ServiceNotifier({})
    assert (quiet.enabled, quiet.interval) == (False, None)


def test_a_pi_without_a_display_server_draws_through_kms(tmp_path: Path) -> None:
    dri = tmp_path / "dri"
    dri.mkdir()
    assert video_driver({}, dri) is None  # no DRM device: SDL decides
    (dri / "card0").touch()
    assert video_driver({}, dri) == "kmsdrm"
    assert video_driver({"DISPLAY": ":0"}, dri) is None
    assert video_driver({"WAYLAND_DISPLAY": "wayland-0"}, dri) is None
    assert video_driver({"SDL_VIDEODRIVER": "x11"}, dri) is None  # the site's choice stands


def test_a_kiosk_never_lets_the_screen_blank() -> None:
    environ: dict[str, str] = {"DISPLAY": ":0"}
    kiosk_environment(environ, fullscreen=True)
    assert environ["SDL_VIDEO_ALLOW_SCREENSAVER"] == "0"
    assert environ["KIVY_NO_ARGS"] == "1"
    window: dict[str, str] = {}
    kiosk_environment(window, fullscreen=False)
    assert "SDL_VIDEO_ALLOW_SCREENSAVER" not in window
