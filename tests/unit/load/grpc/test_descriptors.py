from __future__ import annotations

from iter8_action.load.grpc.descriptors import nearest


def test_nearest_orders_candidates_by_similarity_then_name() -> None:
    candidates = ["pkg.Svc.Farewell", "pkg.Svc.SayHellos", "pkg.Svc.SayHello", "pkg.Other.A"]
    assert nearest("pkg.Svc.SayHelo", candidates) == [
        "pkg.Svc.SayHello",
        "pkg.Svc.SayHellos",
        "pkg.Svc.Farewell",
        "pkg.Other.A",
    ]


def test_nearest_ignores_case_and_breaks_ties_by_name() -> None:
    assert nearest("PKG.SVC.B", ["pkg.Svc.C", "pkg.Svc.B", "pkg.Svc.A"]) == [
        "pkg.Svc.B",
        "pkg.Svc.A",
        "pkg.Svc.C",
    ]
