"""Checking: parse a text's citations, judge each against the cited abstracts, compute metrics, repair.

`JUDGES` maps a name (the `judge` setting) to a factory taking the `Synthesizer`. Register your own with
`JUDGES["name"] = factory`; a judge is anything with `support(sentence, papers, *, query=None) -> Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synth.check.judges import Judge
    from synth.synthesizer import Synthesizer


def _offline(synth: Synthesizer) -> Judge:
    from synth.check.judges import OfflineJudge

    return OfflineJudge(synth.corpus, index=synth.index.bm25)


def _llm(synth: Synthesizer) -> Judge:
    from synth.check.judges import LLMJudge

    return LLMJudge(synth.require_llm("--judge llm"), synth.prompts, trials=synth.settings.check.judge_trials)


JUDGES: dict[str, Callable[[Synthesizer], Judge]] = {"offline": _offline, "llm": _llm}


def drafting_judge(synth: Synthesizer) -> Judge:
    """The judge that verifies synth's own drafts: the offline judge with the drafting bar, else the judge.

    A draft is written from the cited abstracts, so it is held to more than a human's text: most of what a
    sentence says must be in its source (`scoring.DRAFTING`). Stricter, never looser, than checking.
    """
    if synth.settings.check.judge != "offline":
        return synth.judge
    from synth.check.judges import OfflineJudge
    from synth.check.scoring import DRAFTING

    return OfflineJudge(synth.corpus, index=synth.index.bm25, params=DRAFTING)
