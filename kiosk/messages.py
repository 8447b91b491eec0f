"""Messages as data: what the kiosk tells a patient, a pharmacist or a technician is a
typed value, a key with its arguments; only the UI (:mod:`kiosk.ui.i18n`) turns one into
French or English text, or speech. Nothing decides anything by reading a sentence.

A family of messages without arguments is a :class:`MessageEnum` (its members' values
are the keys); a message with arguments is a frozen dataclass with a ``key`` and an
``args()`` mapping. Log lines stay English and carry the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Message(Protocol):
    @property
    def key(self) -> str: ...

    def args(self) -> Mapping[str, object]: ...


class MessageEnum(StrEnum):
    """Messages without arguments; each member's value is its catalogue key."""

    @property
    def key(self) -> str:
        return str(self.value)

    def args(self) -> Mapping[str, object]:
        return {}


class MessageFields:
    """Base of a message dataclass whose arguments are its fields; subclasses set ``key``."""

    __slots__ = ()
    key: ClassVar[str]

    def args(self) -> Mapping[str, object]:
        instance: Any = self  # a dataclass, as every subclass is
        return {field.name: getattr(self, field.name) for field in fields(instance)}
