"""One module per fuzz class; each has CLS, TITLE and run(ctx) -> list[CaseResult]."""
