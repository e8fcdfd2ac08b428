"""Fake metrics backends that accept exactly the documented request and answer in its shape.

- `NewRelic`: NerdGraph, `POST /graphql` with an `API-Key` header and the body
  `{"query": "{ actor { account(id: N) { nrql(query: \\"...\\") { results } } } }"}`;
  answers `{"data": {"actor": {"account": {"nrql": {"results": [...]}}}}}` from a
  table of NRQL queries, and a GraphQL error (status 200, `errors`) for any other.
- `Sysdig`: `GET /prometheus/api/v1/query?query=...` with `Authorization: Bearer`;
  answers a Prometheus instant vector from a table of PromQL queries.
- `Elastic`: `POST /<index>/_search` with `Authorization: Basic` or `ApiKey`;
  evaluates the bool filter and the aggregations (filter, avg, percentiles) over
  documents it holds, and answers `hits.total` and `aggregations` as Elasticsearch does.

Each is a `RecordingServer`, so tests read `server.requests` and script failures.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.servers.base import RecordingServer, Reply, Request

_NERDGRAPH = re.compile(
    r'\{ actor \{ account\(id: (\d+)\) \{ nrql\(query: "((?:[^"\\]|\\.)*)"\) \{ results \} \} \} \}'
)
_UNAUTHORIZED = Reply(401, {"errors": [{"message": "Unauthorized"}]})


def _json_request(request: Request) -> Any:
    if "application/json" not in (request.header("Content-Type") or ""):
        return None
    try:
        return request.json()
    except ValueError:
        return None


class NewRelic(RecordingServer):
    def __init__(self, *, api_key: str, account_id: int, results: Mapping[str, list[Any]]):
        super().__init__()
        self.api_key = api_key
        self.account_id = account_id
        self.results = dict(results)
        self.route("POST", "/graphql", self._graphql)

    def _graphql(self, request: Request) -> Reply:
        if request.header("API-Key") != self.api_key:
            return _UNAUTHORIZED
        body = _json_request(request)
        if not isinstance(body, dict) or set(body) != {"query"}:
            return Reply(400, {"errors": [{"message": "expected a JSON body with query"}]})
        match = _NERDGRAPH.fullmatch(body["query"])
        if match is None or int(match.group(1)) != self.account_id:
            return Reply(200, {"errors": [{"message": "Cannot parse the unexpected character"}]})
        nrql = json.loads(f'"{match.group(2)}"')
        if nrql not in self.results:
            error = {"message": f"NRQL Syntax error: {nrql}", "path": ["actor", "account", "nrql"]}
            return Reply(200, {"data": {"actor": {"account": {"nrql": None}}}, "errors": [error]})
        results = {"results": self.results[nrql]}
        return Reply(200, {"data": {"actor": {"account": {"nrql": results}}}})


class Sysdig(RecordingServer):
    def __init__(self, *, token: str, values: Mapping[str, float]):
        super().__init__()
        self.token = token
        self.values = dict(values)
        self.route("GET", "/prometheus/api/v1/query", self._query)

    def _query(self, request: Request) -> Reply:
        if request.header("Authorization") != f"Bearer {self.token}":
            return _UNAUTHORIZED
        queries = request.query.get("query", [])
        if len(queries) != 1:
            return Reply(400, {"status": "error", "errorType": "bad_data", "error": "no query"})
        value = self.values.get(queries[0])
        result = [] if value is None else [{"metric": {}, "value": [time.time(), f"{value:g}"]}]
        return Reply(200, {"status": "success", "data": {"resultType": "vector", "result": result}})


class TLSSysdig(Sysdig):
    """`Sysdig` over HTTPS with the given certificate (for TLS verification tests)."""

    def __init__(self, *, certfile: str, keyfile: str, token: str, values: Mapping[str, float]):
        super().__init__(token=token, values=values)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def _field(document: Mapping[str, Any], name: str) -> Any:
    """A field by its dotted name, from flat (`a.b`) or nested (`a: {b:}`) documents."""
    if name in document:
        return document[name]
    value: Any = document
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _percentile(values: Sequence[float], percent: float) -> float | None:
    """Linear interpolation between order statistics (exact for the small sets tests use)."""
    if not values:
        return None
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Elastic(RecordingServer):
    """Elasticsearch's `_search` over documents in memory (all recent: `now-` ranges match)."""

    def __init__(
        self,
        *,
        index: str,
        documents: Sequence[Mapping[str, Any]],
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
    ):
        super().__init__()
        self.index = index
        self.documents = list(documents)
        self.accepted = set()
        if username is not None and password is not None:
            basic = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.accepted.add(f"Basic {basic}")
        if api_key is not None:
            self.accepted.add(f"ApiKey {api_key}")
        self.route("POST", "/(?P<index>[^/]+)/_search", self._search)

    def _search(self, request: Request) -> Reply:
        if self.accepted and request.header("Authorization") not in self.accepted:
            return Reply(401, {"error": {"type": "security_exception"}, "status": 401})
        assert request.match is not None
        if request.match.group("index") != self.index:
            return Reply(404, {"error": {"type": "index_not_found_exception"}, "status": 404})
        body = _json_request(request)
        if not isinstance(body, dict):
            return Reply(400, {"error": {"type": "parsing_exception"}, "status": 400})
        hits = [d for d in self.documents if self._matches(d, body.get("query"))]
        answer: dict[str, Any] = {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": len(hits), "relation": "eq"},
                "max_score": None,
                "hits": [],
            },
        }
        if body.get("aggs"):
            answer["aggregations"] = {
                name: self._aggregate(hits, spec) for name, spec in body["aggs"].items()
            }
        return Reply(200, answer)

    def _matches(self, document: Mapping[str, Any], query: Any) -> bool:
        if query is None:
            return True
        return all(self._clause(document, c) for c in query["bool"]["filter"])

    def _clause(self, document: Mapping[str, Any], clause: Mapping[str, Any]) -> bool:
        if "term" in clause:
            ((name, value),) = clause["term"].items()
            return bool(_field(document, name) == value)
        ((name, bounds),) = clause["range"].items()
        if isinstance(bounds.get("gte"), str) and bounds["gte"].startswith("now-"):
            return True  # every document is recent
        value = _field(document, name)
        return value is not None and value >= bounds["gte"]

    def _aggregate(self, hits: list[Mapping[str, Any]], spec: Mapping[str, Any]) -> Any:
        if "filter" in spec:
            return {"doc_count": sum(1 for h in hits if self._clause(h, spec["filter"]))}
        if "avg" in spec:
            values = [_field(h, spec["avg"]["field"]) for h in hits]
            present = [v for v in values if v is not None]
            return {"value": sum(present) / len(present) if present else None}
        percentiles = spec["percentiles"]
        values = [v for h in hits if (v := _field(h, percentiles["field"])) is not None]
        rows = [{"key": float(p), "value": _percentile(values, p)} for p in percentiles["percents"]]
        return {"values": rows}
