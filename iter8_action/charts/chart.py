"""A chart in Iter8's (Helm's) format, and the experiment it renders with values.

A chart is a directory with `Chart.yaml` (apiVersion, name, version), `values.yaml`
(the defaults), optionally `values.schema.json` (checked before rendering, as Helm
does), and `templates/`, whose files share their `define`s. The experiment is the
template named `experiment` when the chart defines one (Iter8's convention:
`{{- define "experiment" }}` in `templates/_experiment.tpl`), else the file
`templates/experiment.yaml`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from iter8_action.core.errors import InputError
from iter8_action.templates.gotemplate import Struct, TemplateError, TemplateSet

MAX_CHART_FILES = 500
MAX_CHART_BYTES = 8 * 2**20
EXPERIMENT_TEMPLATE = "experiment"
EXPERIMENT_FILE = "templates/experiment.yaml"
IGNORED_KEYWORD = "x-iter8-ignored"
"""A values.schema.json annotation: the key is accepted, with this message, and ignored."""


class ChartError(InputError):
    """A chart that cannot be read or rendered, or values that do not fit it (exit 2)."""


@dataclass(frozen=True)
class Chart:
    """A chart as read from its directory."""

    path: Path
    metadata: dict[str, Any]
    values: dict[str, Any]
    schema: dict[str, Any] | None
    templates: dict[str, str] = field(repr=False)
    schema_checked: bool = False
    """The schema is known to be valid (a built-in chart's, checked by a test): checking it
    against its metaschema costs 0.1 s."""

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", self.path.name))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))


def _yaml_file(path: Path, what: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChartError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ChartError(f"{path}: the {what} is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ChartError(
            f"{where}: the {what} is not YAML: {getattr(exc, 'problem', exc)}"
        ) from exc


def _chart_files(root: Path) -> Iterator[Path]:
    count = size = 0
    for path in sorted((root / "templates").rglob("*")):
        if path.is_symlink():
            raise ChartError(f"{path}: a chart may not contain links")
        if not path.is_file():
            continue
        count += 1
        size += path.stat().st_size
        if count > MAX_CHART_FILES or size > MAX_CHART_BYTES:
            raise ChartError(
                f"{root}: the chart's templates exceed {MAX_CHART_FILES} files "
                f"or {MAX_CHART_BYTES} bytes"
            )
        yield path


def load_chart(root: Path, *, schema_checked: bool = False) -> Chart:
    """Read a chart directory (its Chart.yaml, values.yaml, values.schema.json, templates/)."""
    if not (root / "Chart.yaml").is_file():
        raise ChartError(
            f"{root}: not a chart: there is no Chart.yaml (a chart is a directory with "
            "Chart.yaml, values.yaml and templates/)"
        )
    metadata = _yaml_file(root / "Chart.yaml", "Chart.yaml")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise ChartError(f"{root / 'Chart.yaml'}: Chart.yaml needs at least `name:` and `version:`")
    if metadata.get("dependencies"):
        raise ChartError(
            f"{root / 'Chart.yaml'}: chart dependencies (subcharts) are not supported; "
            "copy the templates you need into this chart"
        )
    values: Any = {}
    if (root / "values.yaml").is_file():
        values = _yaml_file(root / "values.yaml", "values.yaml") or {}
        if not isinstance(values, dict):
            raise ChartError(f"{root / 'values.yaml'}: values.yaml must be a map of keys")
    schema = None
    schema_path = root / "values.schema.json"
    if schema_path.is_file():
        try:
            schema = json.loads(schema_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ChartError(f"{schema_path}: not a JSON schema: {exc}") from exc
    templates: dict[str, str] = {}
    for path in _chart_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            templates[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # Helm loads binary files too; a template never is one
    return Chart(root, metadata, values, schema, templates, schema_checked)


def _key_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate_values(chart: Chart, values: Mapping[str, Any]) -> list[str]:
    """Check values against the chart's values.schema.json; returns notices for keys the
    schema marks as ignored. Every violation is reported, each with its key path."""
    if chart.schema is None:
        return []
    # Helm checks values.schema.json with gojsonschema (drafts 4-7): draft 7 unless `$schema` says
    cls = jsonschema.validators.validator_for(chart.schema, default=jsonschema.Draft7Validator)
    try:
        if not chart.schema_checked:
            cls.check_schema(chart.schema)
    except jsonschema.SchemaError as exc:
        raise ChartError(
            f"{chart.path / 'values.schema.json'}: not a valid JSON schema: {exc.message}"
        ) from exc
    validator = cls(chart.schema)
    errors = sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [line for e in errors for line in _describe(e)]
        raise ChartError(
            f"the values do not fit chart {chart.name!r} ({chart.path / 'values.schema.json'}):\n"
            + "\n".join(lines)
        )
    return list(_ignored(chart.schema, values, []))


def _describe(error: jsonschema.ValidationError) -> list[str]:
    """One line per problem; an unknown key is named with its path and a suggestion."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = list(
            (error.schema.get("properties") or {}) if isinstance(error.schema, Mapping) else []
        )
        lines = []
        for key in error.instance:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            lines.append(f"values: {_key_path([*path, key])}: unknown key; {hint}")
        return lines
    if error.validator == "anyOf" and error.context:
        # "is not valid under any of the given schemas" says less than its branches do
        reasons = list(dict.fromkeys(e.message for e in error.context if not e.path))
        if reasons:
            return [f"values: {_key_path(path)}: {', or '.join(reasons)}"]
    return [f"values: {_key_path(path)}: {error.message}"]


def _ignored(schema: Mapping[str, Any], values: Any, path: list[str]) -> Iterator[str]:
    if not isinstance(values, Mapping):
        return
    for key, sub in (schema.get("properties") or {}).items():
        if key not in values or not isinstance(sub, Mapping):
            continue
        if IGNORED_KEYWORD in sub:
            yield f"values: {_key_path([*path, key])}: {sub[IGNORED_KEYWORD]}"
        else:
            yield from _ignored(sub, values[key], [*path, key])


def _metadata_struct(metadata: Mapping[str, Any]) -> Struct:
    special = {"apiVersion": "APIVersion", "kubeVersion": "KubeVersion"}
    fields = {"Name": "", "Version": "", "AppVersion": "", "Description": "", "APIVersion": ""}
    for key, value in metadata.items():
        name = special.get(key, key[:1].upper() + key[1:])
        fields[name] = value
    return Struct("*chart.Metadata", fields)


def render_experiment(chart: Chart, values: Mapping[str, Any], *, release: str = "default") -> str:
    """The chart's experiment rendered with `values` (already merged over the defaults)."""
    ts = TemplateSet()
    try:
        for name, text in chart.templates.items():
            ts.add(f"{chart.name}/{name}", text)
    except TemplateError as exc:
        raise ChartError(f"chart {chart.name!r}: {exc}") from exc
    entry = f"{chart.name}/{EXPERIMENT_FILE}"
    dot = Struct(
        "chartutil.Values",
        {
            "Values": values,
            "Chart": _metadata_struct(chart.metadata),
            "Release": Struct(
                "release",
                {
                    "Name": release,
                    "Namespace": "default",
                    "Service": "Helm",
                    "IsInstall": True,
                    "IsUpgrade": False,
                    "Revision": 1,
                },
            ),
            "Template": Struct("template", {"Name": entry, "BasePath": f"{chart.name}/templates"}),
        },
    )
    try:
        if EXPERIMENT_TEMPLATE in ts.named:
            return ts.render_named(EXPERIMENT_TEMPLATE, dot)
        if entry in ts.files:
            return ts.render_file(entry, dot)
    except TemplateError as exc:
        raise ChartError(f"chart {chart.name!r}: {exc}") from exc
    raise ChartError(
        f"chart {chart.name!r} ({chart.path}) has no experiment: define a template named "
        f'"experiment" ({{{{- define "experiment" }}}} in templates/_experiment.tpl) or '
        f"write {EXPERIMENT_FILE}"
    )
