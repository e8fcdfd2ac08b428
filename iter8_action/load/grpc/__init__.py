"""The gRPC load generator behind the `grpc` task.

Data flows one way through its modules::

    inputs       a stream's fields (the task's, its version's, its endpoint's),
                 parsed when the experiment is loaded, without grpc
    descriptors  where the service's types come from (a .proto compiled with
                 grpc_tools, a protoset, or server reflection) and which method
                 `call` names; only unary methods are accepted
    messages     the request, built once from `data` / `data-file` /
                 `binary-file` and serialized once (every call sends the same bytes)
    plan         what to send: one `GrpcStream` per version and endpoint
    runner       grpc.aio generic unary calls on one event loop; writes
                 `load.http.stats.StreamStats` (the http task's exact statistics)

Statistics are shared with the HTTP load generator (`iter8_action.load.http.stats`,
`.histogram`, `.export`): a status is recorded under its numeric gRPC code, and
every status other than OK is an error counted under the status's name.
"""
