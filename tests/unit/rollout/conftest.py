# The same CI-free environment as the events tests: see tests/unit/ci_environment.py.
from tests.unit.ci_environment import no_ci_environment as no_ci_environment
