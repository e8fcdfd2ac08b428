from __future__ import annotations

import pytest

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.events.delivery import api_base, secret_from_env, url_input


def test_a_missing_secret_says_how_to_provide_it() -> None:
    with pytest.raises(TaskFailed) as caught:
        secret_from_env("SLACK_URL", what="slack", env={})
    assert str(caught.value) == (
        "slack: the environment variable SLACK_URL is not set or empty; set it in the step's "
        "environment from a CI secret (GitHub: `env: {SLACK_URL: ${{ secrets.SLACK_URL }}}`; "
        "GitLab: a masked CI/CD variable named SLACK_URL)"
    )


def test_secrets_from_the_environment_are_masked() -> None:
    env = {"HOOK_URL": " https://hooks.example/T1/B2/secret \n"}
    assert url_input(None, "HOOK_URL", what="notify", env=env) == (
        "https://hooks.example/T1/B2/secret"
    )
    assert SECRETS.redact("posting to https://hooks.example/T1/B2/secret") == "posting to ***"


def test_a_url_written_in_the_experiment_is_masked_only_when_asked() -> None:
    assert url_input("https://public.example/hook", None, what="notify", env={}) == (
        "https://public.example/hook"
    )
    assert SECRETS.redact("https://public.example/hook") == "https://public.example/hook"
    url_input("https://hooks.slack.com/services/T/B/x", None, what="slack", env={}, secret=True)
    assert SECRETS.redact("https://hooks.slack.com/services/T/B/x") == "***"


def test_api_url_prefers_the_task_then_the_ci_variable() -> None:
    assert api_base(None, env_var="GITHUB_API_URL", default="https://api.github.com", env={}) == (
        "https://api.github.com"
    )
    env = {"GITHUB_API_URL": "https://ghe.example/api/v3/"}
    assert api_base(None, env_var="GITHUB_API_URL", default="x", env=env) == (
        "https://ghe.example/api/v3"
    )
    assert api_base("http://127.0.0.1:1/", env_var="GITHUB_API_URL", default="x", env=env) == (
        "http://127.0.0.1:1"
    )
