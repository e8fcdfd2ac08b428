"""Rollout pull requests: declarative edits on a branch, and a PR/MR that carries the report.

- `edits`: YAML set-at-path and regex replace, keeping every other byte;
- `provider`: what a code host must do (read a file, commit several files at
  once, find/open/update a pull or merge request, labels, reviewers, auto-merge);
- `github`, `gitlab`: that interface over PyGithub and python-gitlab;
- `description`: the PR/MR description.
"""
