"""Retrieval: rank the papers of a corpus for a query. The protocol here; one module per retriever."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from synth.models import Hit


class Retriever(Protocol):
    """Anything that ranks the papers of a corpus for a query."""

    def search(self, query: str, k: int) -> list[Hit]:
        """The k best hits for the query, best first; fewer when fewer papers match."""
        ...
