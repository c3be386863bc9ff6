"""Rewriting an unsupported sentence from its evidence: `prompts/rewrite.j2` and the parser of its reply."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from synth.draft.attribution import name_source
from synth.draft.standalone import housekeeping
from synth.errors import LLMError
from synth.llm.base import LLM
from synth.llm.replies import find_json, tidy
from synth.markers import plain_number, strip_markers
from synth.models import Paper, Sentence
from synth.templates import Prompts
from synth.text import full_stop

log = logging.getLogger(__name__)

OUTPUT_EXAMPLE = json.dumps({"text": "One sentence the evidence supports.", "cites": [1]})
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "cites": {"type": "array", "items": {"type": "integer"}}},
    "required": ["text", "cites"],
}


def parse_rewrite(text: str, papers: list[Paper]) -> Sentence | None:
    """The rewritten sentence, citing papers by their number in `papers`; None when the reply is unusable."""
    try:
        found = find_json(text)
    except ValueError:
        return None
    data = found.value if found is not None and found.complete else None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    words, _ = strip_markers(data["text"])
    cites = data.get("cites")
    cites = cites if isinstance(cites, list) else []
    numbers = [n for n in (plain_number(c) for c in cites) if n is not None and 1 <= n <= len(papers)]
    words = tidy(" ".join(words.split()))  # the prompt shows "evidence": a weak model writes "The evidence states that"
    if not words or not numbers or housekeeping(words):  # "Their code is available at …" is no claim to keep
        return None
    cited = [papers[n - 1] for n in dict.fromkeys(numbers)]
    if len(cited) == 1:  # "The cited paper describes …", or "They …" with no one before: the reader is told who
        words = name_source(re.sub(r"^They\b(?=\s+[a-z])", "We", words), cited[0])
    return Sentence(text=full_stop(words), citations=[p.id for p in cited])


class LLMRewriter:
    """Asks the model once to restate an unsupported sentence from what its sources say."""

    def __init__(self, llm: LLM, prompts: Prompts | None = None) -> None:
        self.llm = llm
        self.prompts = prompts or Prompts()

    async def rewrite(self, sentence: str, evidence: list[tuple[Paper, str]], query: str | None) -> Sentence | None:
        """A new sentence citing papers of `evidence`, or None (the model failed, or wrote nothing usable)."""
        papers = [paper for paper, _ in evidence]
        sources = [{"n": n, "title": p.title, "evidence": e} for n, (p, e) in enumerate(evidence, 1)]
        prompt = self.prompts.render("rewrite", query=query or "", sentence=sentence, sources=sources,
                                     output_example=OUTPUT_EXAMPLE)  # fmt: skip
        try:
            reply = await self.llm.acomplete([{"role": "user", "content": prompt}], schema=SCHEMA, max_tokens=200,
                                             stage="rewrite")  # fmt: skip
        except LLMError as e:
            if e.fatal:
                raise
            log.warning("could not rewrite an unsupported sentence (%s); it is dropped", e)
            return None
        return parse_rewrite(reply.text, papers)
