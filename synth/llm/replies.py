"""Reading what models write: the JSON object inside a reply, with LaTeX intact, and clean text.

Three things a plain `json.loads` gets wrong on real replies:
- LaTeX in strings. `"$4\\times 10^5$"` is valid JSON whose `\\t` is a tab: the text would read "4<TAB>imes".
  The same for `\\beta` (backspace), `\\nu` and `\\nabla` (newline), `\\frac` (form feed), `\\rho` (carriage
  return); and `\\alpha` is an invalid escape that fails the whole reply. Backslashes that start a LaTeX
  command, or that JSON does not allow, are kept as backslashes.
- Cut replies. A reply stopped at the token limit ends inside the JSON; the parser must not take the first
  complete inner object for the whole answer. It reports the reply as cut, and can recover the complete
  part (every element that closed before the cut).
- Hostile size. The scan is one linear pass with a depth limit, so a megabyte of `{` fails fast.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64  # a draft reply nests 5 deep; anything near this is not a reply
MAX_STARTS = 20  # candidate opening braces tried before giving up (chatter may contain braces)

# LaTeX commands whose backslash JSON would read as an escape (\b \f \n \r \t): kept as LaTeX.
LATEX_COMMANDS = frozenset(
    """bar beta bf big bigg bigl bigr binom bm bmod boldsymbol bot bowtie breve bullet
    flat footnote forall frac frown fbox
    nabla ne neg neq newline ni nleq ngeq nmid nolimits nonumber noindent not notin nu nwarrow
    rangle rbrace rceil rfloor rho rightarrow rightharpoonup rm rvert ref right
    tan tanh tau text textbf textit textrm textsc textsf texttt textup tfrac theta therefore tilde times tiny to top
    triangle triangleq tt""".split()
)


@dataclass
class Found:
    """A JSON value found in a reply."""

    value: Any
    complete: bool  # False: the reply was cut and this is the part that had closed
    dropped: str = ""  # the start of what was cut off, for the message


def find_json(text: str) -> Found | None:
    """The first JSON object in `text` (fences and chatter around it are fine), LaTeX kept; None if none.

    When the object never closes (a cut reply), the value is its complete part and `complete` is False.
    Raises ValueError when the JSON is nested deeper than any reply synth asks for.
    """
    start = text.find("{")
    tried = 0
    while start != -1 and tried < MAX_STARTS:
        tried += 1
        end, cuts = _scan(text, start)
        if end is not None:
            try:
                return Found(_loads(text[start:end]), True)
            except ValueError:
                start = text.find("{", start + 1)
                continue
        # Never closed: rebuild the part that did, from the last point where an element had closed.
        for position, closers in reversed(cuts):
            try:
                value = _loads(text[start:position] + closers)
            except ValueError:
                continue
            return Found(value, False, " ".join(text[position : position + 120].split()))
        return Found({}, False, " ".join(text[start : start + 120].split())) if cuts or end is None else None
    return None


def _scan(text: str, start: int) -> tuple[int | None, list[tuple[int, str]]]:
    """End of the JSON value opening at `start` (None if it never closes), and the points where it could be cut.

    A cut point follows a closing bracket; it carries the closers that would complete the value there.
    """
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []
    in_string = escaped = False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
            continue
        if c == '"':
            in_string = True
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
            if len(stack) > MAX_DEPTH:
                raise ValueError(f"the reply's JSON nests deeper than {MAX_DEPTH} levels")
        elif c in "}]":
            if not stack or stack[-1] != c:
                return None, cuts  # mismatched: not JSON from here
            stack.pop()
            if not stack:
                return i + 1, cuts
            cuts.append((i + 1, "".join(reversed(stack))))
    return None, cuts


def _loads(fragment: str) -> Any:
    try:
        return json.loads(keep_latex(fragment), strict=False)  # strict=False: raw newlines inside strings
    except RecursionError:
        raise ValueError("the reply's JSON is nested too deeply") from None


def keep_latex(fragment: str) -> str:
    """Double every backslash inside JSON strings that starts a LaTeX command or an escape JSON forbids."""
    out: list[str] = []
    in_string = False
    i, n = 0, len(fragment)
    while i < n:
        c = fragment[i]
        if not in_string:
            in_string = c == '"'
            out.append(c)
            i += 1
            continue
        if c == '"':
            in_string = False
        elif c == "\\" and i + 1 < n:
            nxt = fragment[i + 1]
            if nxt in '"\\/' or (nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", fragment[i + 2 : i + 6])):
                out.append(fragment[i : i + 2])  # a real escape: quote, backslash, slash, \uXXXX
                i += 2
                continue
            if nxt in "bfnrt":
                word = re.match(r"[A-Za-z]+", fragment[i + 1 : i + 40])
                if word is None or word.group() not in LATEX_COMMANDS:
                    out.append(fragment[i : i + 2])  # \n, \t ... meant as escapes
                    i += 2
                    continue
            out.append("\\\\")  # a LaTeX command (\times) or an escape JSON forbids (\alpha, \%)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# What a weak model copies from the prompt's evidence list into its prose: the quote markup, and talk of
# "the evidence" rather than of the papers.
_QUOTE_MARKUP = re.compile(r"\s*\(\s*quote:\s*[\"'“‘].*?[\"'”’]\s*\)", re.IGNORECASE)
_SOURCE = r"(?:the|this|their|its) (?:evidence|cited (?:paper|papers|source|sources|abstract|abstracts)(?:'s|')?(?: abstracts?)?)"
_META_OPENING = re.compile(
    rf"^(?:{_SOURCE} (?:states?|shows?|says?|suggests?|indicates?|notes?) that|according to {_SOURCE},)\s+",
    re.IGNORECASE,
)
_WRAPPED = re.compile(r"^\((?P<inner>[^()]*)\)\.?$")  # "(Towards that end, X does Y.)."


def tidy(text: str) -> str:
    """The sentence without quote markup, wrapping parentheses, or an opening about "the evidence" or "the cited
    paper" copied from the prompt."""
    text = re.sub(r"([.!?])\s*\.$", r"\1", _QUOTE_MARKUP.sub("", text))  # "it. (quote: ...)." -> "it."
    if m := _WRAPPED.match(text.strip()):
        text = m["inner"].strip()
    stripped = _META_OPENING.sub("", text)
    return stripped[:1].upper() + stripped[1:] if stripped != text else text
