"""Kubernetes objects checked against the real schemas.

- Gateway API and Istio objects: the validators generated from their CRDs, in the npm
  packages @kubernetes-models/gateway-api and @kubernetes-models/istio, run by Node
  (`validate.mjs`); `scripts/system-deps` installs them under K8S_MODELS_DIR;
- core kinds (Service, Job, ...): kubernetes-validate, whose schemas are bundled;
- KServe's InferenceService: no package ships its CRD schema, so its structure is
  checked here (the fields the traffic task writes), and the docs say so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate

from tests.support.requires import k8s_models_dir, require

HERE = Path(__file__).resolve().parent
NODE_KINDS = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("networking.istio.io/v1", "VirtualService"),
    ("networking.istio.io/v1", "DestinationRule"),
}


def _node(objects: Sequence[dict[str, Any]]) -> list[str]:
    require("k8s-models")
    script = k8s_models_dir() / "validate.mjs"
    shutil.copyfile(HERE / "validate.mjs", script)  # ESM resolves packages beside the script
    done = subprocess.run(
        ["node", str(script)],
        input=json.dumps(list(objects)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _kserve(obj: dict[str, Any]) -> str:
    predictor = (obj.get("spec") or {}).get("predictor")
    if not isinstance(predictor, dict):
        return "spec.predictor is missing"
    percent = predictor.get("canaryTrafficPercent")
    if percent is not None and not (isinstance(percent, int) and 0 <= percent <= 100):
        return f"spec.predictor.canaryTrafficPercent must be an integer 0-100, not {percent!r}"
    return ""


def problems(objects: Sequence[dict[str, Any]]) -> list[str]:
    """One message per invalid object ("kind name: what is wrong"); empty when all are valid."""
    out: list[str] = []
    node = [o for o in objects if (o.get("apiVersion"), o.get("kind")) in NODE_KINDS]
    for obj, error in zip(node, _node(node) if node else [], strict=True):
        if error:
            out.append(f"{obj['kind']} {obj['metadata']['name']}: {error}")
    for obj in objects:
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key in NODE_KINDS:
            continue
        if key == ("serving.kserve.io/v1beta1", "InferenceService"):
            error = _kserve(obj)
        else:
            try:
                kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
                error = ""
            except kubernetes_validate.ValidationError as exc:
                error = exc.message
        if error:
            out.append(f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}: {error}")
    return out
