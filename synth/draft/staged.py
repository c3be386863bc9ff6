"""Staged LLM drafting, built for weak models: small JSON replies, batches, and an offline way for every stage.

(a) the candidate pool comes from retrieval (`pool` papers, with LLM query expansion when asked for);
(b) `filter`: the model says paper by paper which candidates are related, which moves retrieval's bar; at most k;
(c) `evidence`: claims per paper (one paper per call), each with a quote code finds in the abstract;
(d) `outline`: named themes, their papers, how each relates to the paper being written;
(e) `write`: one paragraph per theme from its cards, citing only that theme's papers;
(f) verify and repair follows in the Synthesizer, for every drafter.
Any stage whose reply fails twice falls back to its offline way and says so in `section.issues`.
"""

from __future__ import annotations

import asyncio
import time

from synth.draft.evidence import cards
from synth.draft.filter import select, vote
from synth.draft.outline import outline
from synth.draft.write import write
from synth.llm.base import LLM, Message, run_sync
from synth.models import Hit, Section
from synth.templates import Prompts


class StagedDrafter:
    """Filter, evidence, outline, write: several small calls instead of one long one."""

    name = "staged"

    def __init__(
        self,
        llm: LLM,
        *,
        prompts: Prompts | None = None,
        k: int = 12,
        pool: int = 40,
        words: int = 300,
        style: str = "thematic paragraphs",
        concurrency: int | None = None,
    ) -> None:
        self.llm = llm
        self.prompts = prompts or Prompts()
        self.k = k
        self.candidates = max(pool, k)  # what the Synthesizer retrieves for this drafter
        self.words = words
        self.style = style
        # A server on this machine answers one request at a time: asking several at once only queues them.
        self.concurrency = concurrency or (1 if getattr(llm, "loopback", False) else 4)

    async def adraft(self, query: str, hits: list[Hit]) -> Section:
        """Draft a section in stages; every stage's time is in `section.timings`."""
        system: list[Message] = [{"role": "system", "content": self.prompts.render("system")}]
        issues: list[str] = []
        timings: dict[str, float] = {}

        start = time.perf_counter()
        votes, notes = await vote(self.llm, self.prompts, system, query, hits, concurrency=self.concurrency)
        kept, left_out = select(hits, votes, self.k)
        issues += notes
        timings["filter_s"] = time.perf_counter() - start

        start = time.perf_counter()
        made, notes = await cards(
            self.llm, self.prompts, system, query, [h.paper for h in kept], concurrency=self.concurrency
        )
        issues += notes
        timings["evidence_s"] = time.perf_counter() - start

        start = time.perf_counter()
        themes, note = await outline(self.llm, self.prompts, system, query, made)
        issues += [note] if note else []
        timings["outline_s"] = time.perf_counter() - start

        start = time.perf_counter()
        papers = max(1, sum(len(t.cards) for t in themes))
        gate = asyncio.Semaphore(self.concurrency)

        async def paragraph(theme):  # type: ignore[no-untyped-def]
            words = max(60, round(self.words * len(theme.cards) / papers))  # a theme's share, by its papers
            async with gate:
                return await write(self.llm, self.prompts, system, query, theme, words=words, style=self.style)

        written = await asyncio.gather(*(paragraph(t) for t in themes))
        paragraphs = [p for p, _ in written if p.sentences]
        issues += [n for _, ns in written for n in ns]
        timings["write_s"] = time.perf_counter() - start
        return Section(
            query=query, paragraphs=paragraphs, drafter=self.name, left_out=left_out, issues=issues, timings=timings
        )

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """The sync form of `adraft`."""
        return run_sync(self.adraft(query, hits))
