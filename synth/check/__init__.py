"""Checking: parse a text's citations, judge each against the cited abstracts, compute metrics, repair."""
