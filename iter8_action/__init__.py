"""iter8-py: Iter8 experiments as a CI/CD plugin."""

FALLBACK_VERSION = "0.0.0"
"""The version of a source tree that was never built (hatch-vcs gives the same without git)."""

try:
    # Written by hatch-vcs when the package is built or installed: the git tag's version
    # (`v1.2.3` -> 1.2.3, commits after it -> 1.2.4.devN+g<hash>).
    from iter8_action._version import __version__ as __version__
except ImportError:  # pragma: no cover - a source tree on sys.path, never installed
    __version__ = FALLBACK_VERSION
