"""Draft a related-work section on the sample corpus that ships with synth, from Python.

Run: python examples/quickstart.py
"""

from synth import Synthesizer

synth = Synthesizer(k=8)  # no corpus given: the sample corpus; no model set: the offline drafter
section = synth.draft("program synthesis from input-output examples")

print(section.markdown)
for citation in section.citations:  # typed objects, numbered as in the text
    print(citation.number, citation.paper.id, f"{section.hits[citation.number - 1].score:.2f}")
