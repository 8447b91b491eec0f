"""Hypothesis strategies for valid card profiles: any Unicode names, lunar dates, Corsica."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kiosk.hardware.nir import with_key

# Any character but unpaired surrogates (not encodable, not valid JSON text).
names = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=64)
# Raw card dates: real ones, "lunar" ones (00 day or month), impossible ones (31 Feb).
birth_dates = st.builds(
    lambda y, m, d: f"{y:04d}{m:02d}{d:02d}",
    st.integers(1900, 2026),
    st.integers(0, 12),
    st.integers(0, 31),
)


@st.composite
def nirs(draw: st.DrawFn) -> str:
    department = draw(st.sampled_from(["75", "13", "2A", "2B", "99", "97"]))
    body = (
        draw(st.sampled_from("12"))
        + f"{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}"
        + department
        + f"{draw(st.integers(1, 999)):03d}{draw(st.integers(1, 999)):03d}"
    )
    return with_key(body)


@st.composite
def beneficiaries(draw: st.DrawFn, holder_nir: str | None = None) -> dict[str, Any]:
    last = draw(names)
    return {
        "quality": "0" if holder_nir else draw(st.sampled_from("2695")),
        "nir": holder_nir or draw(st.none() | nirs()),
        "last_name": last,
        "birth_name": draw(st.just(last) | names),
        "first_name": draw(names),
        "birth_date": draw(birth_dates),
        "birth_rank": draw(st.integers(1, 9)),
    }


@st.composite
def vitale_profiles(draw: st.DrawFn) -> dict[str, Any]:
    holder = draw(nirs())
    count = draw(st.integers(0, 8))
    people = [draw(beneficiaries(holder))] if count else []
    people += [draw(beneficiaries()) for _ in range(max(0, count - 1))]
    return {
        "card": "vitale",
        "serial": f"{draw(st.integers(0, 10**10 - 1)):010d}",
        "valid_from": draw(birth_dates),
        "holder_nir": holder,
        "regime": f"{draw(st.integers(0, 99)):02d}",
        "caisse": f"{draw(st.integers(0, 999)):03d}",
        "centre": f"{draw(st.integers(0, 9999)):04d}",
        "beneficiaries": people,
    }
