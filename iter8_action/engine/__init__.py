"""Loading an experiment and running its tasks in order (docs/development.md, Layers)."""
