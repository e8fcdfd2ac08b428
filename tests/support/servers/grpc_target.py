"""A real gRPC server on 127.0.0.1 for the grpc task's tests.

Its API is `tests/fixtures/grpc/greeter.proto`, compiled at start with grpc_tools
into descriptors (no generated code), served by a generic handler with server
reflection enabled::

    iter8test.Greeter/SayHello    answers after `sleep_ms`; fails with the status
                                  named in `fail_with` (e.g. "INVALID_ARGUMENT") or
                                  in the call's `x-fail-with` metadata; with the
                                  metadata `x-answer: odd`, answers the odd-numbered
                                  such calls (1st, 3rd, ...) and never the even ones
    iter8test.Greeter/Farewell    the same, counted apart
    iter8test.Greeter/SayHellos   server streaming (two answers)
    iter8test.Greeter/Collect, Chat   client and bidirectional streaming (in the
                                  proto only: UNIMPLEMENTED)

Every call is logged in `calls` (method, request as a dict, metadata);
`freeze(seconds)` holds every answer until that much time has passed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection

from tests.support.paths import TEST_DATA

PROTO = TEST_DATA / "grpc" / "greeter.proto"
SERVICE = "iter8test.Greeter"
CALL = "iter8test.Greeter.SayHello"
WORKERS = 128


def protoset(directory: Path) -> Path:
    """The fixture's FileDescriptorSet (with its imports), written to `directory`."""
    out = directory / "greeter.protoset"
    well_known = resources.files("grpc_tools") / "_proto"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO.parent}",
            f"-I{well_known}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            str(PROTO),
        ],
        check=True,
        capture_output=True,
    )
    return out


@dataclass
class Call:
    method: str
    request: dict[str, Any]
    metadata: dict[str, str]
    peer: str
    """The client's address: one per connection."""
    at: float
    """`time.monotonic()` when the call arrived."""


class GrpcTarget:
    """`with GrpcTarget() as server: ... server.host ...` (host:port on 127.0.0.1)."""

    def __init__(self, *, reflection_enabled: bool = True) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            data = protoset(Path(tmp)).read_bytes()
        self.pool = descriptor_pool.DescriptorPool()
        for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
            self.pool.Add(file)
        service = self.pool.FindServiceByName(SERVICE)
        self.request_type = message_factory.GetMessageClass(
            service.methods_by_name["SayHello"].input_type
        )
        self.reply_type = message_factory.GetMessageClass(
            service.methods_by_name["SayHello"].output_type
        )
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._frozen_until = 0.0
        self._odd = 0
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS))
        self.server.add_generic_rpc_handlers((self._handlers(),))
        if reflection_enabled:
            reflection.enable_server_reflection(
                (SERVICE, reflection.SERVICE_NAME), self.server, pool=self.pool
            )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.host = f"127.0.0.1:{self.port}"

    def add_tls_port(self, cert: Path, key: Path) -> str:
        """Also serve TLS with this certificate; returns its host:port (call before start)."""
        credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
        return f"127.0.0.1:{self.server.add_secure_port('127.0.0.1:0', credentials)}"

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.stop(grace=None)

    def freeze(self, seconds: float) -> None:
        self._frozen_until = time.monotonic() + seconds

    def count(self, method: str = "SayHello") -> int:
        with self._lock:
            return sum(1 for c in self.calls if c.method == method)

    # -- handlers ---------------------------------------------------------------------

    def _handlers(self) -> grpc.GenericRpcHandler:
        unary = {
            "request_deserializer": self.request_type.FromString,
            "response_serializer": lambda m: m.SerializeToString(),
        }
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "SayHello": grpc.unary_unary_rpc_method_handler(self._unary("SayHello"), **unary),
                "Farewell": grpc.unary_unary_rpc_method_handler(self._unary("Farewell"), **unary),
                "SayHellos": grpc.unary_stream_rpc_method_handler(self._stream, **unary),
            },
        )

    def _unary(self, method: str) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            self._log(method, request, context)
            wait = self._frozen_until - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if request.sleep_ms:
                time.sleep(request.sleep_ms / 1000)
            if dict(context.invocation_metadata()).get("x-answer") == "odd" and self._odd_even():
                while context.is_active():  # until the caller gives up
                    time.sleep(0.01)
                return self.reply_type()
            fail_with = request.fail_with or dict(context.invocation_metadata()).get("x-fail-with")
            if fail_with:
                context.abort(grpc.StatusCode[str(fail_with)], "asked to fail")
            return self.reply_type(message=f"Hello {request.name}")

        return handle

    def _odd_even(self) -> bool:
        """Counts a call of `x-answer: odd`; True for an even-numbered one."""
        with self._lock:
            self._odd += 1
            return self._odd % 2 == 0

    def _stream(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        self._log("SayHellos", request, context)
        yield self.reply_type(message="one")
        yield self.reply_type(message="two")

    def _log(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        metadata = {str(k): str(v) for k, v in context.invocation_metadata()}
        call = Call(
            method,
            json_format.MessageToDict(request),
            metadata,
            context.peer(),
            time.monotonic(),
        )
        with self._lock:
            self.calls.append(call)
