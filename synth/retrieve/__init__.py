"""Retrieval: rank the papers of a corpus for a query. The protocol and the registry here; one module per retriever.

`RETRIEVERS` maps a name (the `retriever` setting) to a factory taking the `Synthesizer` (for its corpus,
settings and shared index) and returning a retriever. Register your own with `RETRIEVERS["name"] = factory`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from synth.models import Hit
    from synth.synthesizer import Synthesizer


class Retriever(Protocol):
    """Anything that ranks the papers of a corpus for a query."""

    def search(self, query: str, k: int) -> list[Hit]:
        """The k best hits for the query, best first; fewer when fewer papers match."""
        ...


def _bm25(synth: Synthesizer) -> Retriever:
    from synth.retrieve.bm25 import BM25Retriever

    return BM25Retriever(synth.corpus, index=synth.index.bm25, prf=synth.settings.retrieval.prf)


def _dense(synth: Synthesizer) -> Retriever:
    from synth.retrieve.dense import DenseRetriever

    return DenseRetriever(synth.corpus, cache_dir=synth.index.folder, embeddings=synth.settings.retrieval.embeddings)


def _hybrid(synth: Synthesizer) -> Retriever:
    from synth.retrieve.fusion import HybridRetriever

    return HybridRetriever([_bm25(synth), _dense(synth)], method=synth.settings.retrieval.fusion)


RETRIEVERS: dict[str, Callable[[Synthesizer], Retriever]] = {"bm25": _bm25, "dense": _dense, "hybrid": _hybrid}


def auto_retriever(synth: Synthesizer) -> str:
    """What `auto` means for this corpus: hybrid when its dense embeddings are cached (a draft never embeds a
    corpus unasked) and queries can be encoded without torch; else bm25."""
    from synth.retrieve.dense import dense_ready

    return "hybrid" if dense_ready(synth.corpus, synth.index.folder, synth.settings.retrieval.embeddings) else "bm25"
