"""`iter8_action.results.insights`: what the writer writes, the reader reads back unchanged."""

from __future__ import annotations

from dataclasses import replace

from iter8_action.assessment import judge, parse_spec
from iter8_action.assessment.verdict import to_insights
from iter8_action.results.insights import Winner, read_insights
from tests.support.stores import two_versions

INPUTS = {
    "SLOs": {
        "upper": [
            {"metric": "http/error-rate", "limit": 0.05},
            {"metric": "http/latency-p95", "maxIncreasePercent": 10, "versions": ["v2"]},
        ],
        "lower": [{"metric": "http/request-count", "limit": 10}],
    },
    "rewards": {"min": ["http/latency-mean", "http/error-rate"]},
}


def test_the_reader_reads_back_what_the_writer_wrote() -> None:
    store = two_versions(medians=(50.0, 40.0), errors=(10, 2))
    assessment = judge(store, parse_spec(INPUTS, store.version_names))
    found = read_insights(to_insights(assessment), store)

    written_slos = [s.recorded() for s in assessment.slos]
    assert [replace(s, units=None) for s in found.slos] == written_slos
    written_rewards = [r.recorded() for r in assessment.rewards]
    assert [replace(r, units=None) for r in found.rewards] == written_rewards
    winner, reason = assessment.winner()
    assert found.winner == Winner(winner, "v2", reason) and winner == 1
    assert (found.baseline, found.confidence, found.assessed) == (0, 0.95, True)
    assert found.slos_hold(1) == assessment.slos_hold(1)


def test_iter8s_fields_alone() -> None:
    store = two_versions()
    insights = {
        **store.to_insights(),
        "SLOs": {"upper": [{"metric": "http/error-rate", "limit": 0.001}]},
        "SLOsSatisfied": {"upper": [[False, True]]},
        "rewards": {"max": ["http/request-count"], "min": ["app/missing"]},
        "rewardsWinners": {"max": [1], "min": [-1]},
    }
    found = read_insights(insights)
    assert [v.status for v in found.slos[0].versions] == ["violated", "satisfied"]
    assert [(r.metric, r.verdict, r.winner) for r in found.rewards] == [
        ("http/request-count", "winner", 1),
        ("app/missing", "no-data", None),
    ]
    assert found.overall_winner() == (
        None,
        "no version is best on every reward while meeting every SLO",
    )
    assert found.slo_failures() == ["v1: upper SLO on http/error-rate violated"]


def test_without_an_assessment() -> None:
    found = read_insights(two_versions().to_insights())
    assert (found.slos, found.rewards, found.winner, found.assessed) == ((), (), None, False)
    assert found.overall_winner() == (
        None,
        "there is no assessment in the result (did an assess task run?)",
    )
