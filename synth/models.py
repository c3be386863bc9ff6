"""The typed objects that flow through synth: papers, hits, sections and their citations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synth.text import clean_text


class Paper(BaseModel):
    """One abstract in a corpus."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id: the given id, else derived from the DOI, else from the title.")
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    date: str | None = Field(default=None, description="ISO date (YYYY[-MM[-DD]]) when known.")
    venue: str | None = None
    url: str | None = None
    doi: str | None = None

    @property
    def text(self) -> str:
        """Title and abstract, the text retrieval indexes."""
        return f"{self.title}\n{self.abstract}"


class Hit(BaseModel):
    """A paper returned by a retriever for a query."""

    paper: Paper
    score: float
    rank: int = Field(description="1 for the best hit.")


class Sentence(BaseModel):
    """A sentence of a drafted section and the ids of the papers it cites."""

    text: str = Field(description="The sentence without citation markers.")
    citations: list[str] = Field(default_factory=list, description="Cited paper ids, in order.")
    about_query: bool = Field(
        default=False, description="A sentence about the paper being written itself, which cites nothing by design."
    )

    @field_validator("text")
    @classmethod
    def _clean(cls, text: str) -> str:
        # A model's JSON can spell terminal escapes as \u001b: decoded, they would reach the user's terminal.
        return clean_text(text)


class Paragraph(BaseModel):
    """A paragraph: one theme of the section."""

    sentences: list[Sentence]
    theme: str | None = Field(default=None, description="A few words naming the theme, when known.")
    reserve: list[Sentence] = Field(
        default_factory=list,
        exclude=True,
        repr=False,
        description="Sentences quoted from the theme's papers, one per paper, that verification adds for a paper "
        "no surviving sentence cites (staged drafting); never rendered or serialised.",
    )

    @field_validator("theme")
    @classmethod
    def _clean(cls, theme: str | None) -> str | None:
        return clean_text(theme) if theme else theme


class LeftOut(BaseModel):
    """A retrieved paper the section does not cite, and why."""

    id: str
    title: str
    score: float = Field(description="Its retrieval score.")
    reason: str


class Citation(BaseModel):
    """A cited paper with its number in the rendered section."""

    number: int
    paper: Paper


class Usage(BaseModel):
    """Tokens, cost and time spent in language-model calls, in all and by stage."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    calls: int = Field(default=0, description="Calls answered by the model.")
    cached_calls: int = Field(default=0, description="Calls answered from the on-disk cache, at no cost.")
    estimated_prompt_tokens: int = Field(
        default=0, description="synth's own count of the prompts it sent, beside the server's `prompt_tokens`."
    )
    stages: dict[str, Usage] = Field(default_factory=dict, description="The same figures per stage.")

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None if self.cost_usd is None and other.cost_usd is None else (self.cost_usd or 0) + (other.cost_usd or 0)
        )
        stages = dict(self.stages)
        for name, usage in other.stages.items():
            stages[name] = stages[name] + usage if name in stages else usage
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=cost,
            latency_s=self.latency_s + other.latency_s,
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
            estimated_prompt_tokens=self.estimated_prompt_tokens + other.estimated_prompt_tokens,
            stages=stages,
        )

    def in_stage(self, stage: str) -> Usage:
        """This usage, also filed under `stage`."""
        flat = self.model_copy(update={"stages": {}})
        return self.model_copy(update={"stages": {stage: flat}})


class CitationVerdict(BaseModel):
    """What verification decided about one citation of one sentence."""

    sentence: int = Field(description="Index of the sentence in reading order, after repair.")
    paper: str = Field(description="The cited paper id (the replacement, when repaired).")
    status: Literal["supported", "repaired", "removed", "unverified"]
    score: float = Field(description="The judge's support score for this paper.")
    evidence: str = Field(default="", description="The abstract sentence that best matches the sentence.")
    replaced: str | None = Field(default=None, description="The paper it replaced, when repaired.")
    reason: str = Field(default="", description="Why the original citation failed, when it did.")


class Change(BaseModel):
    """One change verification made to the text."""

    kind: Literal[
        "citation replaced",
        "citation added",
        "citation removed",
        "sentence rewritten",
        "sentence dropped",
        "sentence added",
        "left uncited",
    ]
    sentence: int = Field(description="Index of the sentence in reading order, before repair (-1 when added).")
    before: str
    after: str | None = Field(default=None, description="The sentence after the change (None when dropped).")
    papers_before: list[str] = Field(default_factory=list)
    papers_after: list[str] = Field(default_factory=list)
    reason: str = ""


class Verification(BaseModel):
    """Counts of what verification did, for the one-line summary."""

    judge: str
    citations: int = 0
    supported: int = 0
    repaired: int = 0
    removed: int = 0
    rewritten: int = 0
    dropped: int = 0
    added: int = 0
    left_uncited: int = 0

    def summary(self) -> str:
        """One line: "verified 41 citations (offline judge): 36 supported, 3 repaired, 2 removed; ..."."""
        line = (
            f"verified {self.citations} citations ({self.judge} judge): {self.supported} supported, "
            f"{self.repaired} repaired, {self.removed} removed"
        )
        extra = [f"{n} sentences {what}" for n, what in ((self.rewritten, "rewritten"), (self.dropped, "dropped"),
                                                         (self.added, "added"), (self.left_uncited, "left without a citation")) if n]  # fmt: skip
        return line + ("; " + ", ".join(extra) if extra else "")


class Section(BaseModel):
    """A drafted related-work section with everything needed to render or check it."""

    query: str
    heading: str = "Related Work"
    heading_level: int = 2
    paragraphs: list[Paragraph]
    hits: list[Hit] = Field(default_factory=list, description="What retrieval returned, best first.")
    left_out: list[LeftOut] = Field(default_factory=list, description="Retrieved papers deliberately not cited.")
    verdicts: list[CitationVerdict] = Field(default_factory=list, description="Every citation's verdict, after repair.")
    changes: list[Change] = Field(default_factory=list, description="Every change verification made.")
    verification: Verification | None = Field(default=None, description="What verification did (None: not verified).")
    drafter: str = Field(default="extractive", description="Which drafter wrote the section.")
    issues: list[str] = Field(default_factory=list, description="Problems found and repaired while drafting.")
    usage: Usage = Field(default_factory=Usage)
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    settings: dict[str, object] = Field(default_factory=dict, description="The settings that produced it.")

    @property
    def sentences(self) -> list[Sentence]:
        """All sentences in reading order."""
        return [s for p in self.paragraphs for s in p.sentences]

    @property
    def citations(self) -> list[Citation]:
        """Cited papers numbered by first appearance, the order of the References list."""
        papers = {h.paper.id: h.paper for h in self.hits}
        numbered: dict[str, int] = {}
        for sentence in self.sentences:
            for pid in sentence.citations:
                if pid in papers and pid not in numbered:
                    numbered[pid] = len(numbered) + 1
        return [Citation(number=n, paper=papers[pid]) for pid, n in numbered.items()]

    @property
    def markdown(self) -> str:
        """The section as markdown with [n] citations and a References list."""
        from synth.render import to_markdown

        return to_markdown(self)


class Verdict(BaseModel):
    """Whether a set of cited papers supports a sentence, how strongly, and the best evidence found."""

    model_config = ConfigDict(defer_build=True)  # built on first use: a plain draft never needs it

    supported: bool
    score: float = Field(description="The judge's support score; supported when at or above its threshold.")
    papers: list[str] = Field(description="Ids of the papers judged together.")
    evidence: str = Field(default="", description="The abstract sentence (or title) that best matches the sentence.")
    reason: str = Field(default="", description="Why it is unsupported, when the judge can say (empty when supported).")


class SentenceCheck(BaseModel):
    """The checks of one sentence."""

    model_config = ConfigDict(defer_build=True)  # built on first use: a plain draft never needs it

    index: int
    text: str
    cited: list[str] = Field(default_factory=list, description="Corpus ids the sentence cites.")
    unresolved: list[str] = Field(default_factory=list, description="Markers that match no corpus paper.")
    skipped: bool = Field(default=False, description="Shorter than the minimum length: not counted in the metrics.")
    citations: list[Verdict] = Field(default_factory=list, description="One verdict per cited paper, alone.")
    precise: list[bool] = Field(default_factory=list, description="Per citation: DeepScholar cite-P.")
    precise_loo: list[bool] = Field(default_factory=list, description="Per citation: ALCE leave-one-out.")
    coverage: Verdict | None = Field(default=None, description="Support by the sources cited within the window.")
    recall: Verdict | None = Field(default=None, description="Support by the sentence's own citations (window 0).")


class GroundingReport(BaseModel):
    """Citation-grounding metrics of a related-work text, and the verdict behind each."""

    model_config = ConfigDict(defer_build=True)  # built on first use: a plain draft never needs it

    judge: str
    window: int
    min_chars: int
    citation_precision: float | None = Field(description="Share of citations whose source alone supports the sentence.")
    citation_precision_loo: float | None = Field(description="ALCE: share of citations not judged irrelevant.")
    claim_coverage: float | None = Field(description="Share of sentences supported by sources cited within ±window.")
    citation_recall: float | None = Field(description="ALCE: share of sentences supported by their own citations.")
    uncited_rate: float | None = Field(description="Share of sentences that cite nothing resolvable.")
    invalid_citations: int = Field(description="Markers that resolve to no corpus paper.")
    never_cited: list[str] | None = Field(
        default=None, description="Retrieved papers the text does not cite, when known."
    )
    reference_coverage: float | None = Field(default=None, description="Share of the gold references the text cites.")
    sentences: list[SentenceCheck]
    notes: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage, description="LLM calls the judge made (none for the offline judge).")

    @property
    def unsupported(self) -> list[SentenceCheck]:
        """Counted sentences that are not covered, or that have a citation whose source alone does not support them."""
        return [
            s
            for s in self.sentences
            if not s.skipped and (not all(s.precise) or not (s.coverage and s.coverage.supported))
        ]
