"""`iter8 demo`: the sample app on loopback, an experiment against it, the result."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from iter8_action.demo.app import sample_app
from iter8_action.engine import exit_code_for, run_experiment
from iter8_action.exitcodes import ExitCode
from iter8_action.loader import load_experiment
from iter8_action.logs import get_logger


def demo_experiment_text(urls: dict[str, str]) -> str:
    template = resources.files(__package__).joinpath("experiment.yaml").read_text("utf-8")
    for name, url in urls.items():
        template = template.replace("{" + name + "}", url)
    return template


def run_demo(output_dir: Path) -> ExitCode:
    """Start the sample app, run the demo experiment, write everything to `output_dir`."""
    log = get_logger()
    output_dir.mkdir(parents=True, exist_ok=True)
    with sample_app() as urls:
        log.info("sample app: %s", ", ".join(f"{n} at {u}" for n, u in urls.items()))
        experiment_path = output_dir / "experiment.yaml"
        experiment_path.write_text(demo_experiment_text(urls), encoding="utf-8")
        experiment = load_experiment(experiment_path)
        result_path = output_dir / "result.yaml"
        result = run_experiment(experiment, result_path=result_path, log=log)
    log.info("result: %s", result_path)
    return exit_code_for(result)
