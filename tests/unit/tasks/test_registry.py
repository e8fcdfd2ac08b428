"""Every registered task has its schema definition; every task in the schema is registered."""

from __future__ import annotations

from iter8_action.documents.schemas import load_schema
from iter8_action.engine.aliases import LEGACY_TASK_NAMES
from iter8_action.tasks import known_names, registry, suggest


def _schema_tasks() -> set[str]:
    schema = load_schema("experiment.schema.json")
    return set(schema["$defs"]["task"]["properties"]["task"]["enum"])


def test_every_registered_task_has_a_schema_definition() -> None:
    schema = load_schema("experiment.schema.json")
    for name in registry():
        if name == "run":
            assert "run" in schema["$defs"]["task"]["properties"]
            continue
        assert name in schema["$defs"], f"task {name!r} has no $defs entry"
        assert name in _schema_tasks(), f"task {name!r} is not in the task enum"


def test_every_task_in_the_schema_is_registered() -> None:
    current = _schema_tasks() - set(LEGACY_TASK_NAMES)
    assert current == set(registry()) - {"run"}


def test_every_legacy_name_maps_to_a_known_task() -> None:
    assert set(LEGACY_TASK_NAMES) <= _schema_tasks()
    assert set(LEGACY_TASK_NAMES.values()) <= set(known_names())


def test_every_schema_property_has_a_description() -> None:
    schema = load_schema("experiment.schema.json")
    missing = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and "description" not in prop and "$ref" not in prop:
                    missing.append(f"{path}.{key}")
            for key, value in node.items():
                if key != "if":  # dispatch conditions, not documentation
                    walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(schema, "#")
    assert missing == []


def test_task_inputs_reject_unknown_fields() -> None:
    schema = load_schema("experiment.schema.json")
    for name in _schema_tasks():
        definition = schema["$defs"][name]
        if "$ref" in definition:
            continue
        assert definition.get("additionalProperties") is False, name


def test_suggest() -> None:
    assert suggest("htp", ["http", "grpc"]) == "http"
    assert suggest("zzz", ["http", "grpc"]) is None
