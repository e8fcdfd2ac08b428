"""iter8-py: Iter8 experiments as a CI/CD plugin."""

__version__ = "0.1.0"
