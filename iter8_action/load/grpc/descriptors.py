"""The service's types: from a .proto file, a protoset, or the server's reflection service.

A .proto file is compiled by `grpc_tools.protoc` (run as a subprocess so that its
error messages can be shown) into a FileDescriptorSet, the format of a protoset;
grpc_tools bundles the well-known protos, so `import "google/protobuf/..."` works
without import paths. Reflection asks the server itself (gRPC's
`grpc.reflection.v1alpha.ServerReflection`, as ghz does).
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, MethodDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from iter8_action.core.errors import InvalidValue

PROTOC_TIMEOUT_S = 60.0
_REFLECTION_SERVICES = ("grpc.reflection.", "grpc.health.")


class DescriptorError(InvalidValue):
    """The service's types could not be loaded, or `call` names no usable method."""


@dataclass(frozen=True)
class Method:
    """A unary method: its path on the wire and its request type."""

    full_name: str
    path: str
    """`/package.Service/Method`, the HTTP/2 path of the call."""
    input_type: Descriptor


def compile_proto(proto: Path, import_paths: Sequence[Path]) -> bytes:
    """A FileDescriptorSet (with every import) for a .proto file."""
    includes = [*import_paths, proto.parent]
    well_known = resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory(prefix="iter8-protoc-") as tmp:
        out = Path(tmp) / "set.pb"
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            *(f"-I{p}" for p in includes),
            f"-I{well_known}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            str(proto),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PROTOC_TIMEOUT_S, check=False
        )
        if done.returncode != 0 or not out.exists():
            detail = " ".join((done.stderr or done.stdout).split()) or f"exit {done.returncode}"
            raise DescriptorError(f"cannot compile {proto}: {detail}")
        return out.read_bytes()


def pool_from_set(data: bytes, origin: str) -> descriptor_pool.DescriptorPool:
    """A pool with every file of a serialized FileDescriptorSet (in any order)."""
    try:
        files = list(descriptor_pb2.FileDescriptorSet.FromString(data).file)
    except Exception as exc:  # protobuf raises DecodeError, or others from upb
        raise DescriptorError(f"{origin} is not a FileDescriptorSet ({exc})") from exc
    if not files:
        raise DescriptorError(f"{origin} is not a FileDescriptorSet (it holds no file)")
    pool = descriptor_pool.DescriptorPool()
    pending = files
    while pending:
        # A protoset lists a file's imports first when protoc writes it; others may not.
        left = []
        for file in pending:
            try:
                pool.Add(file)
            except (TypeError, KeyError, ValueError):
                left.append(file)
        if len(left) == len(pending):
            names = ", ".join(f.name for f in left)
            raise DescriptorError(
                f"{origin}: {names} import files that the set does not hold; "
                "write it with protoc --include_imports"
            )
        pending = left
    return pool


def set_services(data: bytes) -> list[str]:
    """The services a serialized FileDescriptorSet defines."""
    found: list[str] = []
    for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        prefix = f"{file.package}." if file.package else ""
        found.extend(prefix + service.name for service in file.service)
    return found


# grpc's own interceptor examples build ClientCallDetails as a namedtuple subclass.
class _CallDetails(
    namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,  # type: ignore[misc]
):
    pass


class _Deadline(grpc.StreamStreamClientInterceptor):  # type: ignore[misc]
    """Give every stream-stream call (reflection's only kind) a deadline."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        timed = _CallDetails(
            details.method,
            self.timeout_s,
            details.metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )
        return continuation(timed, requests)


@dataclass
class Reflection:
    """Server reflection on one host: its pool and the services it lists."""

    pool: descriptor_pool.DescriptorPool
    services: list[str]
    channel: grpc.Channel

    def close(self) -> None:
        self.channel.close()


def reflect(
    host: str,
    credentials: grpc.ChannelCredentials | None,
    options: Sequence[tuple[str, str]],
    *,
    timeout_s: float,
) -> Reflection:
    """Ask the server at `host` for its services (raises DescriptorError if it cannot answer).

    Every reflection request carries the deadline `timeout_s`: grpc_reflection's client
    sets none, and a server that accepts connections but never answers would hold it
    forever.
    """
    raw = (
        grpc.insecure_channel(host, options=options)
        if credentials is None
        else grpc.secure_channel(host, credentials, options=options)
    )
    channel = grpc.intercept_channel(raw, _Deadline(timeout_s))
    try:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = database.get_services()
    except grpc.RpcError as exc:
        channel.close()
        code = exc.code() if isinstance(exc, grpc.Call) else None
        details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
        name = code.name if code is not None else "error"
        raise DescriptorError(
            f"server reflection on {host} failed ({name}: {details}); is the server up and "
            "does it enable reflection? Otherwise give proto: (a .proto file) or protoset:"
        ) from exc
    pool = descriptor_pool.DescriptorPool(database)
    return Reflection(pool, [str(s) for s in services], channel)


def find_method(
    pool: descriptor_pool.DescriptorPool, services: Sequence[str], call: str, origin: str
) -> Method:
    """The unary method that `call` (`pkg.Service.Method` or `pkg.Service/Method`) names."""
    service_name, method_name = _split_call(call)
    method = _lookup(pool, service_name, method_name)
    if method is None:
        known = _methods(pool, services)
        listing = ", ".join(nearest(call.replace("/", "."), known)) or "none"
        raise DescriptorError(
            f"{origin} has no method {call!r}; methods that exist, nearest first: {listing}"
        )
    if method.client_streaming or method.server_streaming:
        kind = (
            "bidirectional streaming"
            if method.client_streaming and method.server_streaming
            else "client streaming"
            if method.client_streaming
            else "server streaming"
        )
        raise DescriptorError(
            f"{method.full_name} is a {kind} method; the grpc task calls unary methods only"
        )
    return Method(
        method.full_name,
        f"/{method.containing_service.full_name}/{method.name}",
        method.input_type,
    )


def nearest(name: str, candidates: Sequence[str]) -> list[str]:
    """Candidates ordered by similarity to `name`, most similar first (ties by name)."""
    lowered = name.lower()
    return sorted(
        candidates,
        key=lambda c: (-difflib.SequenceMatcher(None, lowered, c.lower()).ratio(), c),
    )


def _split_call(call: str) -> tuple[str, str]:
    if "/" in call:
        service, _, method = call.strip("/").rpartition("/")
    else:
        service, _, method = call.rpartition(".")
    return service, method


def _lookup(
    pool: descriptor_pool.DescriptorPool, service_name: str, method_name: str
) -> MethodDescriptor | None:
    if not service_name or not method_name:
        return None
    try:
        service = pool.FindServiceByName(service_name)
    except (KeyError, grpc.RpcError):
        return None
    method: MethodDescriptor | None = service.methods_by_name.get(method_name)
    return method


def _methods(pool: descriptor_pool.DescriptorPool, services: Sequence[str]) -> list[str]:
    found: list[str] = []
    for name in services:
        if name.startswith(_REFLECTION_SERVICES):
            continue
        try:
            service = pool.FindServiceByName(name)
        except (KeyError, grpc.RpcError):
            continue
        found.extend(m.full_name for m in service.methods)
    return found
