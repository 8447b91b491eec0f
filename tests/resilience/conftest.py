"""Shared fixtures of the resilience tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Pcscd
from tests.resilience.chaos_site import Site


@pytest.fixture(scope="module")
def site(pcscd: Pcscd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One pharmacy's kiosk for a whole module: every fault hits the same running kiosk."""
    pharmacy = Site(tmp_path_factory.mktemp("chaos"), pcscd)
    yield pharmacy
    pharmacy.close()
