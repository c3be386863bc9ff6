"""The fuzzing harness (see README.md); run it with `python eval/fuzz/run.py`."""
