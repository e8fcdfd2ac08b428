from tests.unit.ci_environment import no_ci_environment

__all__ = ["no_ci_environment"]
