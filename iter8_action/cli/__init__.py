"""The command line and the CI job: the only layer that reads the process environment
and calls `sys.exit` (docs/development.md, Layers)."""
