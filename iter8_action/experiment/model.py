"""The canonical, in-memory experiment: what the loader produces and the engine runs.

Every alias of Iter8's older releases is translated before anything is built
here, so nothing downstream sees the old names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iter8_action.experiment.conditions import Expression


@dataclass(frozen=True)
class TaskSpec:
    """One task of an experiment, in canonical form."""

    index: int
    name: str
    inputs: Mapping[str, Any]
    """The task's `with:` (for `run:`, `{"script": ...}`), canonical and schema-valid."""
    condition: Expression | None = None
    soft_failure: bool = False
    line: int | None = None
    parsed: Any = field(default=None, compare=False, repr=False)
    """The task's inputs as its `TaskType.parse` returned them (set by the loader): what
    the engine hands to its `run`. Derived from `inputs`, so left out of comparisons."""

    @property
    def label(self) -> str:
        return f"task {self.index} ({self.name})"

    def to_document(self) -> dict[str, Any]:
        """The task as it reads in the current Iter8 form."""
        out: dict[str, Any] = {}
        if self.condition is not None:
            out["if"] = self.condition.source
        if self.name == "run":
            out["run"] = self.inputs["script"]
        else:
            out["task"] = self.name
            if self.inputs:
                out["with"] = _plain(self.inputs)
        if self.soft_failure:
            out["softFailure"] = True
        return out


@dataclass(frozen=True)
class Experiment:
    """A loaded, validated experiment."""

    tasks: tuple[TaskSpec, ...]
    source: str
    """Where it came from: a file path, or a name like `<demo>`."""
    base_dir: Path
    """Relative paths inside the experiment (payload files, templates) resolve here."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    legacy_form: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return str(name) if name is not None else None

    def to_document(self) -> dict[str, Any]:
        """The canonical experiment in the current Iter8 form (what `--print-canonical` shows)."""
        out: dict[str, Any] = {}
        if self.metadata:
            out["metadata"] = _plain(self.metadata)
        out["spec"] = [task.to_document() for task in self.tasks]
        return out


def _plain(value: Any) -> Any:
    """Deep-copy mappings and sequences into plain dicts and lists (for YAML/JSON dumps)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
