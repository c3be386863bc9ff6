"""The indexes of one corpus, built or loaded once and shared: the BM25 retriever and the offline judge both ask here."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from synth._version import __version__
from synth.corpus import Corpus
from synth.retrieve.bm25 import INDEX_FORMAT, BM25Index

log = logging.getLogger(__name__)


class CorpusIndex:
    """The indexes of `corpus`, cached in `folder` (keyed by the corpus content) when one is given."""

    def __init__(self, corpus: Corpus, folder: Path | None) -> None:
        self.corpus = corpus
        self.folder = folder

    @cached_property
    def bm25(self) -> BM25Index:
        """The BM25 index: loaded from the cache when it is there and sound, else built (and cached)."""
        if self.folder is None:
            return BM25Index.build(self.corpus)
        meta = {"format": INDEX_FORMAT, "fingerprint": self.corpus.fingerprint, "synth": __version__}
        path = self.folder / f"bm25-{self.corpus.fingerprint[:24]}"
        index = BM25Index.load(path, meta)
        if index is not None:
            log.debug("loaded BM25 index from %s", path)
            return index
        index = BM25Index.build(self.corpus)
        try:
            index.save(path, meta)
        except OSError as e:  # a read-only cache must not stop a draft
            log.warning("could not cache the index in %s (%s); continuing without cache", path, e)
        return index
