"""Benches: scripts that measure iter8-py and print figures, never failing on them.

Each is a module run from the repository root, where `python -m` puts the
working directory on `sys.path`, so that it imports the installed `iter8_action`
and the tests' servers (`tests.support.servers`) as they are:

    python -m bench.<name> [--quick]

`--quick` is a smoke run of seconds; tests/bench/test_benches.py runs every
bench that way (docs/performance.md lists them and their figures).
"""
