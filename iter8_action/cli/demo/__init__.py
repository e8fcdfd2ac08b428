"""`iter8 demo`: the sample app (`app`) and the run against it (`runner`).

Kept free of imports: the sample app's own process imports this package, and
should not pay for the engine, the statistics and the reports.
"""
