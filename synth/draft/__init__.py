"""Drafting: turn a query and its hits into a cited `Section`. The protocol and the registries here.

`PIPELINES` maps an LLM pipeline name (the `pipeline` setting) to a factory taking the `Synthesizer`; the
offline extractive drafter is used when no model is set (or `drafter = "extractive"`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from synth.models import Hit, Section
    from synth.synthesizer import Synthesizer


class Drafter(Protocol):
    """Anything that writes a cited section from the hits of a query."""

    name: str

    async def adraft(self, query: str, hits: list[Hit]) -> Section:
        """Write paragraphs whose sentences cite hit paper ids."""
        ...


def _one_shot(synth: Synthesizer) -> Drafter:
    from synth.draft.llm import LLMDrafter

    s = synth.settings
    return LLMDrafter(
        synth.require_llm("--drafter llm"),
        prompts=synth.prompts,
        words=s.draft.words,
        style=s.draft.style,
        context_window=s.llm.context_window,
        reserve_tokens=s.llm.max_output_tokens,
    )


def _staged(synth: Synthesizer) -> Drafter:
    from synth.draft.staged import StagedDrafter

    s = synth.settings
    return StagedDrafter(
        synth.require_llm("--drafter llm"),
        prompts=synth.prompts,
        k=s.retrieval.k,
        pool=s.retrieval.pool,
        words=s.draft.words,
        style=s.draft.style,
    )


PIPELINES: dict[str, Callable[[Synthesizer], Drafter]] = {"staged": _staged, "one-shot": _one_shot}


def extractive_drafter(synth: Synthesizer) -> Drafter:
    """The offline extractive drafter, with the relevance bar that suits the retriever's scores."""
    from synth.draft.extractive import ExtractiveDrafter
    from synth.draft.relevance import MIN_RELATIVE_SCORE, RRF_RELATIVE_SCORE

    # Reciprocal-rank fusion squeezes the top scores into 0.6-1.0 of the best: BM25's bar would cut nothing.
    fused = synth.retriever_name == "hybrid" and synth.settings.retrieval.fusion == "rrf"
    return ExtractiveDrafter(min_relative_score=RRF_RELATIVE_SCORE if fused else MIN_RELATIVE_SCORE)
