"""The HTTP load generator behind the `http` task.

Data flows one way through its modules::

    plan      what to send: streams (a version or endpoint each), their load
              model, and how they are shared among worker processes
    runner    runs the shares in this process or one process per core, merges
    worker    one event loop running its shares (in-process or `python -m`)
    client    the hot path: asyncio protocols on uvloop with httptools' parser
    stats     what a stream recorded, with exact merging (no I/O)
    histogram the HDR latency histogram (no I/O)
    export    a stream's statistics as Iter8's metrics in the metric store
"""
