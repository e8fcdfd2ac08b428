"""Running `iter8 demo`: the sample app on loopback, an experiment against it, the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from iter8_action.cli.demo.app import sample_app
from iter8_action.core.exitcodes import ExitCode
from iter8_action.core.logs import get_logger
from iter8_action.engine.loader import load_experiment
from iter8_action.engine.runner import exit_code_for, run_experiment
from iter8_action.experiment.file import read_result_document
from iter8_action.report import render


def demo_experiment_text(urls: dict[str, str]) -> str:
    template = (
        resources.files("iter8_action.cli.demo").joinpath("experiment.yaml").read_text("utf-8")
    )
    for name, url in urls.items():
        template = template.replace("{" + name + "}", url)
    return template


@dataclass(frozen=True)
class DemoOutcome:
    code: ExitCode
    result_path: Path
    html_path: Path
    text_report: str


def run_demo(output_dir: Path, *, env: Mapping[str, str], color: bool = False) -> DemoOutcome:
    """Start the sample app, run the demo experiment, write the result and HTML report."""
    log = get_logger()
    output_dir.mkdir(parents=True, exist_ok=True)
    with sample_app() as urls:
        log.info("sample app: %s", ", ".join(f"{n} at {u}" for n, u in urls.items()))
        experiment_path = output_dir / "experiment.yaml"
        experiment_path.write_text(demo_experiment_text(urls), encoding="utf-8")
        experiment = load_experiment(experiment_path, env=env)
        result_path = output_dir / "result.yaml"
        result = run_experiment(experiment, result_path=result_path, env=env, log=log)
    document = read_result_document(result_path)
    html_path = output_dir / "report.html"
    html_path.write_text(render(document, "html"), encoding="utf-8")
    log.info("result: %s; HTML report: %s", result_path, html_path)
    text = render(document, "text", color=color)
    return DemoOutcome(exit_code_for(result), result_path, html_path, text)
