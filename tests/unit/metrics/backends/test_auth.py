"""Credentials from environment variables and files, always registered as secrets."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from iter8_action.core.secrets import SECRETS
from iter8_action.metrics.backends.auth import AuthError, auth_headers, mask_literal_credentials
from iter8_action.metrics.backends.spec import AuthSpec

TOKEN = "tok-9f8e7d6c5b4a"


def _headers(auth: AuthSpec | None, tmp_path: Path, **env: str) -> dict[str, str]:
    return auth_headers(auth, provider="backend", resolve=lambda p: tmp_path / p, env=env)


def test_no_auth_and_none_send_no_header(tmp_path: Path) -> None:
    assert _headers(None, tmp_path) == {}
    assert _headers(AuthSpec(type="none"), tmp_path) == {}


def test_bearer_from_env(tmp_path: Path) -> None:
    headers = _headers(AuthSpec(type="bearer", token_env="TOKEN"), tmp_path, TOKEN=f" {TOKEN}\n")
    assert headers == {"Authorization": f"Bearer {TOKEN}"}
    assert SECRETS.redact(f"sent {headers}") == "sent {'Authorization': 'Bearer ***'}"


def test_bearer_from_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    assert _headers(AuthSpec(type="bearer", token_file="token"), tmp_path) == {
        "Authorization": f"Bearer {TOKEN}"
    }
    assert SECRETS.redact(TOKEN) == "***"


def test_basic_encodes_user_and_password(tmp_path: Path) -> None:
    auth = AuthSpec(type="basic", username="elastic", password_env="PW")
    headers = _headers(auth, tmp_path, PW="changeme-123")
    encoded = base64.b64encode(b"elastic:changeme-123").decode()
    assert headers == {"Authorization": f"Basic {encoded}"}
    assert SECRETS.redact(headers["Authorization"]) == "Basic ***"
    assert SECRETS.redact("changeme-123") == "***"


def test_basic_user_from_env_and_password_from_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("pw-from-file")
    auth = AuthSpec(type="basic", username_env="USER_NAME", password_file="pw")
    headers = _headers(auth, tmp_path, USER_NAME="reader")
    assert headers == {
        "Authorization": "Basic " + base64.b64encode(b"reader:pw-from-file").decode()
    }


def test_apikey_defaults_to_elasticsearchs_authorization_scheme(tmp_path: Path) -> None:
    auth = AuthSpec(type="apikey", key_env="KEY")
    assert _headers(auth, tmp_path, KEY="a2V5LWlkOmtleQ==") == {
        "Authorization": "ApiKey a2V5LWlkOmtleQ=="
    }


def test_apikey_in_its_own_header_has_no_scheme(tmp_path: Path) -> None:
    auth = AuthSpec(type="apikey", key_env="NEW_RELIC_API_KEY", header="API-Key")
    assert _headers(auth, tmp_path, NEW_RELIC_API_KEY="NRAK-123456") == {"API-Key": "NRAK-123456"}
    auth = AuthSpec(type="apikey", key_env="K", header="X-Auth", scheme="Token")
    assert _headers(auth, tmp_path, K="abc-def-ghi") == {"X-Auth": "Token abc-def-ghi"}


@pytest.mark.parametrize(
    ("env", "state"), [({}, "is not set"), ({"SYSDIG_API_TOKEN": "  "}, "is empty")]
)
def test_a_missing_environment_variable_says_how_to_set_it(
    tmp_path: Path, env: dict[str, str], state: str
) -> None:
    with pytest.raises(AuthError) as caught:
        _headers(AuthSpec(type="bearer", token_env="SYSDIG_API_TOKEN"), tmp_path, **env)
    assert str(caught.value) == (
        "provider backend: the bearer token is read from the environment variable "
        f"SYSDIG_API_TOKEN, which {state}; set it (in a GitHub workflow: "
        "`env: {SYSDIG_API_TOKEN: ${{ secrets.SYSDIG_API_TOKEN }}}`)"
    )


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as caught:
        _headers(AuthSpec(type="apikey", key_file="key.txt"), tmp_path)
    assert str(caught.value) == (
        f"provider backend: cannot read the API key from {tmp_path / 'key.txt'}: "
        "No such file or directory"
    )


def test_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    with pytest.raises(AuthError) as caught:
        _headers(AuthSpec(type="basic", username="u", password_file="pw"), tmp_path)
    assert str(caught.value) == f"provider backend: the password file {tmp_path / 'pw'} is empty"


def test_a_user_name_from_an_unset_variable(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as caught:
        _headers(AuthSpec(type="basic", username_env="U", password_env="P"), tmp_path, P="x")
    assert str(caught.value).startswith(
        "provider backend: the user name is read from the environment variable U, which is not set"
    )


def test_an_auth_without_a_source_or_of_an_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as caught:
        _headers(AuthSpec(type="bearer"), tmp_path)
    assert str(caught.value) == "provider backend: auth names no source for the bearer token"
    with pytest.raises(AuthError) as caught:
        _headers(AuthSpec(type="digest"), tmp_path)
    assert str(caught.value) == "provider backend: unknown auth type 'digest'"


def test_credentials_written_in_headers_are_masked() -> None:
    found = mask_literal_credentials(
        {"Authorization": "Bearer literal-token-123", "X-Query-Key": "NRIQ-abcdef", "Accept": "x"}
    )
    assert found == ["Authorization", "X-Query-Key"]
    text = "Bearer literal-token-123 / literal-token-123 / NRIQ-abcdef / Accept: x"
    assert SECRETS.redact(text) == "*** / *** / *** / Accept: x"
