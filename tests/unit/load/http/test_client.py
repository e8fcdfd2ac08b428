from __future__ import annotations

import socket
import ssl

import pytest

from iter8_action.load.http.client import error_kind, ssl_context
from iter8_action.load.http.plan import TlsOptions


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ssl.SSLCertVerificationError("bad cert"), "tls"),
        (ConnectionRefusedError(), "refused"),
        (TimeoutError(), "timeout"),
        (ConnectionResetError(), "reset"),
        (BrokenPipeError(), "reset"),
        (socket.gaierror(-2, "Name or service not known"), "dns"),
        (OSError(101, "Network is unreachable"), "connect"),
    ],
)
def test_connection_errors_are_classified(exc: BaseException, kind: str) -> None:
    assert error_kind(exc) == kind


def test_insecure_skip_verify_turns_verification_off() -> None:
    context = ssl_context(TlsOptions(insecure_skip_verify=True))
    assert (context.check_hostname, context.verify_mode) == (False, ssl.CERT_NONE)
    strict = ssl_context(TlsOptions())
    assert (strict.check_hostname, strict.verify_mode) == (True, ssl.CERT_REQUIRED)
