"""The kiosk's screens: one module + one .kv per :class:`kiosk.core.flow.Screen`
(:mod:`kiosk.ui.screens.registry` maps them), and the pharmacist's admin screen."""
