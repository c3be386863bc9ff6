"""LLM query expansion, as in DeepScholar: the model writes a few search queries, their rankings are fused.

`prompts/expand.j2` asks for {"queries": [...]}; `parse_queries` reads it. The original query is always
searched too and its ranking counts double in the reciprocal-rank fusion, so a poor model adds papers
lower down, and outranks the query's own best hits only when several of its queries agree.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from synth.errors import LLMError
from synth.llm.base import LLM, run_sync
from synth.llm.replies import find_json
from synth.models import Hit
from synth.retrieve import Retriever
from synth.retrieve.fusion import fused_hits, reciprocal_rank_fusion
from synth.templates import Prompts

log = logging.getLogger(__name__)

# The reply contract shown to the model; its placeholder queries are never accepted as queries (small
# models copy them, and two copied placeholders agree with each other and outrank the real query).
EXAMPLE_QUERIES = ["<first search query>", "<second search query>"]
OUTPUT_EXAMPLE = json.dumps({"queries": EXAMPLE_QUERIES})
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"queries": {"type": "array", "items": {"type": "string"}}},
    "required": ["queries"],
}


def parse_queries(text: str, limit: int) -> list[str]:
    """The queries in a reply: the JSON "queries" list, else one query per non-empty line; at most `limit`."""
    found: list[str] = []
    try:
        value = find_json(text)
    except ValueError:  # absurdly nested: no queries from it
        value = None
    if value is not None and isinstance(value.value, dict) and isinstance(value.value.get("queries"), list):
        found = [str(q) for q in value.value["queries"] if isinstance(q, (str, int, float))]
    if not found:
        found = [re.sub(r"^\s*(\d+[.)]|[-*•])\s*", "", line) for line in text.splitlines()]
    cleaned = [" ".join(q.strip().strip('"').split()) for q in found]
    placeholders = {q.lower() for q in EXAMPLE_QUERIES} | {"first query", "second query"}
    usable = (q for q in cleaned if 2 <= len(q.split()) <= 20 and q.lower() not in placeholders and "<" not in q)
    return list(dict.fromkeys(usable))[:limit]


class ExpandedRetriever:
    """Searches the query and `n` LLM-written queries with `base`, fusing the rankings by RRF."""

    def __init__(self, base: Retriever, llm: LLM, n: int = 4, prompts: Prompts | None = None, depth: int = 100):
        self.base = base
        self.llm = llm
        self.n = n
        self.prompts = prompts or Prompts()
        self.depth = depth

    async def aqueries(self, query: str) -> list[str]:
        """What the model suggests searching for (an LLM failure leaves just the original query)."""
        prompt = self.prompts.render("expand", query=query, n=self.n, output_example=OUTPUT_EXAMPLE)
        try:
            reply = await self.llm.acomplete([{"role": "user", "content": prompt}], schema=SCHEMA, stage="expand")
        except LLMError as e:  # expansion is an extra: the search goes on without it
            if e.fatal:
                raise
            log.warning("query expansion failed (%s); searching the query alone", e)
            return []
        return parse_queries(reply.text, self.n)

    async def asearch(self, query: str, k: int) -> list[Hit]:
        """The k best papers by reciprocal-rank fusion over the original and the generated queries."""
        queries = [query, *await self.aqueries(query)]
        rankings = [self.base.search(q, max(k, self.depth)) for q in queries]
        weights = [2.0] + [1.0] * (len(rankings) - 1)  # the user's own query counts double
        fused = reciprocal_rank_fusion([[h.paper.id for h in hits] for hits in rankings], weights=weights)
        return fused_hits(rankings, fused, k)

    def search(self, query: str, k: int) -> list[Hit]:
        """The sync form of `asearch`."""
        return run_sync(self.asearch(query, k))
