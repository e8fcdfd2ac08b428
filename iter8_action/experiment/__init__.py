"""The experiment: its canonical model, its `if:` conditions, its result file."""
