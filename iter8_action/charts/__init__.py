"""Experiment charts: Iter8's (Helm's) chart format rendered into an experiment.

`gotemplate` is the Go text/template engine, `values` Helm's `--set` rules and
values merging, `chart` loading a chart directory and rendering its experiment,
`repo` charts from a Helm repository; `builtin/iter8` is the default chart.
"""
