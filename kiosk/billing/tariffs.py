"""Dated tariffs per act code, in integer cents. Pure.

A tariff applies from its date until the next one for the same act; before the first
one the act has no tariff (an error, not zero). Another counter act (vaccination,
medication review) is a new row here, not new code.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

DMP_OPEN = "DMP_OPEN"
DMP_REACTIVATE = "DMP_REACTIVATE"


class TariffError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Tariff:
    act_code: str
    valid_from: dt.date
    cents: int


# [V] avenant n°11 (signed 20 July 2017): €1 per DMP opened from the 2018 relaunch.
# [A] a reactivation opens nothing new: recorded, not paid.
DEFAULT_TARIFFS = (
    Tariff(DMP_OPEN, dt.date(2018, 11, 6), 100),
    Tariff(DMP_REACTIVATE, dt.date(2018, 11, 6), 0),
)


class TariffSchedule:
    def __init__(self, tariffs: Iterable[Tariff] = DEFAULT_TARIFFS) -> None:
        table: dict[str, list[Tariff]] = {}
        for tariff in tariffs:
            if tariff.cents < 0:
                raise TariffError(f"{tariff.act_code}: a tariff cannot be negative")
            table.setdefault(tariff.act_code, []).append(tariff)
        self._table: dict[str, tuple[list[dt.date], list[int]]] = {}
        for code, rows in table.items():
            rows.sort(key=lambda t: t.valid_from)
            dates = [t.valid_from for t in rows]
            if len(set(dates)) != len(dates):
                raise TariffError(f"{code}: two tariffs start on the same day")
            self._table[code] = (dates, [t.cents for t in rows])

    @property
    def act_codes(self) -> frozenset[str]:
        return frozenset(self._table)

    def cents(self, act_code: str, day: dt.date) -> int:
        if act_code not in self._table:
            raise TariffError(f"unknown act code {act_code!r}")
        dates, cents = self._table[act_code]
        index = bisect_right(dates, day) - 1
        if index < 0:
            raise TariffError(f"{act_code}: no tariff before {dates[0].isoformat()}")
        return cents[index]

    def with_change(self, act_code: str, valid_from: dt.date, cents: int) -> TariffSchedule:
        rows = [
            Tariff(code, date, value)
            for code, (dates, values) in self._table.items()
            for date, value in zip(dates, values, strict=True)
            if not (code == act_code and date == valid_from)
        ]
        return TariffSchedule([*rows, Tariff(act_code, valid_from, cents)])
