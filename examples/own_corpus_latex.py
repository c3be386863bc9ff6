"""Draft from your own BibTeX file and write LaTeX with a .bib of exactly the cited papers.

Run: python examples/own_corpus_latex.py [OUTPUT_DIR]   (default: a temporary folder)
"""

import sys
import tempfile
from pathlib import Path

from synth import Synthesizer
from synth.render import to_bibtex, to_latex

here = Path(__file__).parent
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())

section = Synthesizer(corpus=here / "papers.bib", k=4).draft("searching for programs that fit examples")
(out / "related_work.tex").write_text(to_latex(section))
(out / "related_work.bib").write_text(to_bibtex(section))

print(to_latex(section))
print(f"wrote {out / 'related_work.tex'} and {out / 'related_work.bib'}")
