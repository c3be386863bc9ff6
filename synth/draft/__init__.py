"""Drafting: turn a query and its hits into a cited `Section`. The protocol here; one module per drafter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from synth.models import Hit, Section


class Drafter(Protocol):
    """Anything that writes a cited section from the hits of a query."""

    name: str

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """Write paragraphs whose sentences cite hit paper ids."""
        ...
