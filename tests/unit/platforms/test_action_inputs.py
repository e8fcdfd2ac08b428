from __future__ import annotations

from pathlib import Path

import pytest

from iter8_action.core.errors import InputError
from iter8_action.platforms.inputs import raw_input, read_inputs


def test_defaults_when_nothing_is_passed() -> None:
    inputs = read_inputs({})
    assert inputs.experiment == Path("experiment.yaml")
    assert inputs.comment == "always"
    assert inputs.comment_key == "experiment.yaml"
    assert inputs.fail_on == frozenset({"slos", "task-failure"})
    assert inputs.report_formats == ("markdown", "html", "junit")
    assert inputs.report_path == Path("iter8-reports")
    assert inputs.summary is True
    assert inputs.log_level == "info"


def test_hyphenated_names_win_over_underscored_ones_and_values_are_trimmed() -> None:
    env = {"INPUT_COMMENT-KEY": "  load  ", "INPUT_COMMENT_KEY": "other"}
    assert raw_input(env, "comment-key") == "load"
    assert raw_input({"INPUT_COMMENT_KEY": "gitlab"}, "comment-key") == "gitlab"


def test_lists_choices_and_booleans() -> None:
    inputs = read_inputs(
        {
            "INPUT_FAIL-ON": "none",
            "INPUT_REPORT-FORMATS": "HTML, json\njunit,html",
            "INPUT_SUMMARY": "False",
            "INPUT_COMMENT": "On-Failure",
            "INPUT_WORKING-DIRECTORY": "perf",
        }
    )
    assert inputs.fail_on == frozenset()
    assert inputs.report_formats == ("html", "json", "junit")
    assert inputs.summary is False
    assert inputs.comment == "on-failure"
    assert inputs.experiment_path == Path("perf/experiment.yaml")


def test_every_invalid_input_is_reported_at_once() -> None:
    with pytest.raises(InputError) as caught:
        read_inputs(
            {
                "INPUT_EXPERIMENT": " ",
                "INPUT_FAIL-ON": "slos,latency",
                "INPUT_LOG-LEVEL": "loud",
                "INPUT_REPORT-FORMATS": "",
                "INPUT_SUMMARY": "1",
            }
        )
    assert str(caught.value) == (
        "invalid inputs:\n"
        "  fail-on: 'slos,latency' is not valid; use a comma-separated list of: "
        "slos, task-failure, none\n"
        "  report-formats: '' is not valid; use a comma-separated list of: "
        "text, markdown, html, json, junit, none\n"
        "  log-level: 'loud' is not valid; use one of: debug, info, warning, error\n"
        "  summary: '1' is not a boolean; use true or false "
        "(YAML 1.2 core schema: true | True | TRUE | false | False | FALSE)\n"
        "  experiment: empty; name the experiment file, e.g. `experiment.yaml`"
    )
