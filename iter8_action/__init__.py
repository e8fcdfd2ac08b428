"""iter8-py: Iter8 experiments as a CI/CD plugin."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version

FALLBACK_VERSION = "0.0.0"
"""The version of a source tree that is not installed (hatch-vcs gives the same without a tag)."""

try:
    # The installed distribution's version: hatch-vcs derives it from the git tag at build
    # time (`v1.2.3` -> 1.2.3, commits after it -> 1.2.4.devN+g<hash>).
    __version__ = _installed_version("iter8-py")
except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path, not installed
    __version__ = FALLBACK_VERSION
