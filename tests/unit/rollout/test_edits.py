from __future__ import annotations

import pytest

from iter8_action.rollout import edits
from iter8_action.rollout.edits import (
    EditError,
    Index,
    Key,
    Select,
    parse_path,
    replace_regex,
    set_yaml,
)

DEPLOYMENT = """\
# The app, rolled out by iter8
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app   # keep in step with the Service
  labels: {app: web, tier: "front"}
spec:
  replicas: 3
  paused: false
  template:
    spec:
      containers:
        - name: envoy
          image: envoyproxy/envoy:v1.30.1
        - name: app
          image: "ghcr.io/acme/app:v1"   # the tag iter8 sets
          env:
            - {name: MODE, value: 'fast'}
---
apiVersion: v1
kind: Service
metadata:
  name: app
"""

VALUES = """\
# Helm values
image:
  repository: ghcr.io/acme/app   # registry
  tag: v1

# traffic split, in percent
weights:
  v1: 90
  v2: 10
"""


def test_path_syntax() -> None:
    assert parse_path('spec.containers[name=app].image[0]["a.b"]') == [
        Key("spec"),
        Key("containers"),
        Select("name", "app"),
        Key("image"),
        Index(0),
        Key("a.b"),
    ]


@pytest.mark.parametrize(
    ("path", "character"), [(".a", 1), ("a..b", 2), ("a[", 2), ("a[x", 2), ("a.b[1", 4)]
)
def test_bad_paths_say_where_and_how_to_write_one(path: str, character: int) -> None:
    with pytest.raises(EditError) as caught:
        parse_path(path)
    assert str(caught.value) == (
        f"cannot read the path {path!r} at character {character}; write keys separated by dots, "
        "[n] for a list index, [field=value] to select a list item"
    )


def test_an_empty_path() -> None:
    with pytest.raises(EditError) as caught:
        parse_path("")
    assert str(caught.value) == "the path is empty"


def test_an_image_in_a_deployment_changes_and_nothing_else_does() -> None:
    edited = set_yaml(
        DEPLOYMENT, "spec.template.spec.containers[name=app].image", "ghcr.io/acme/app:v2"
    )
    assert edited == DEPLOYMENT.replace('"ghcr.io/acme/app:v1"', '"ghcr.io/acme/app:v2"')


def test_plain_single_and_flow_scalars_keep_their_style() -> None:
    edited = set_yaml(
        DEPLOYMENT, "spec.template.spec.containers[0].image", "envoyproxy/envoy:v1.31.0"
    )
    assert edited == DEPLOYMENT.replace("envoy:v1.30.1", "envoy:v1.31.0")
    edited = set_yaml(
        DEPLOYMENT, "spec.template.spec.containers[name=app].env[name=MODE].value", "it's"
    )
    assert edited == DEPLOYMENT.replace("value: 'fast'", "value: 'it''s'")
    edited = set_yaml(DEPLOYMENT, "metadata.labels.tier", "back")
    assert edited == DEPLOYMENT.replace('tier: "front"', 'tier: "back"')


def test_a_string_that_would_read_as_something_else_is_quoted() -> None:
    assert set_yaml(VALUES, "image.tag", "1.10") == VALUES.replace("tag: v1", 'tag: "1.10"')
    assert set_yaml(VALUES, "image.tag", "a: b") == VALUES.replace("tag: v1", 'tag: "a: b"')
    assert set_yaml(VALUES, "image.tag", "") == VALUES.replace("tag: v1", 'tag: ""')


def test_numbers_stay_numbers_and_booleans_booleans() -> None:
    assert set_yaml(VALUES, "weights.v2", "100") == VALUES.replace("v2: 10", "v2: 100")
    assert set_yaml(VALUES, "weights.v1", 0) == VALUES.replace("v1: 90", "v1: 0")
    assert set_yaml(DEPLOYMENT, "spec.paused", "true") == DEPLOYMENT.replace(
        "paused: false", "paused: true"
    )
    assert set_yaml(DEPLOYMENT, "spec.replicas", 2.5) == DEPLOYMENT.replace(
        "replicas: 3", "replicas: 2.5"
    )


def test_setting_the_value_already_there_returns_the_text_unchanged() -> None:
    assert (
        set_yaml(VALUES, "weights.v1", "90") is VALUES
        or set_yaml(VALUES, "weights.v1", "90") == VALUES
    )
    assert set_yaml(DEPLOYMENT, "metadata.name", "app") == DEPLOYMENT


def test_a_later_document_is_addressed_by_its_index() -> None:
    edited = set_yaml(DEPLOYMENT, "metadata.name", "web", document=1)
    assert edited == DEPLOYMENT.replace("metadata:\n  name: app\n", "metadata:\n  name: web\n")


def test_missing_keys_are_added_after_the_last_entry_of_their_mapping() -> None:
    assert set_yaml(VALUES, "image.pullPolicy", "Always") == VALUES.replace(
        "  tag: v1\n", "  tag: v1\n  pullPolicy: Always\n"
    )
    assert set_yaml(VALUES, "weights.v3", 0) == VALUES + "  v3: 0\n"
    assert set_yaml(VALUES, "canary.analysis.enabled", True) == (
        VALUES + "canary:\n  analysis:\n    enabled: true\n"
    )
    no_newline = "a: 1"
    assert set_yaml(no_newline, "b", "x y") == "a: 1\nb: x y\n"


@pytest.mark.parametrize(
    ("path", "document", "message"),
    [
        (
            "spec.template.spec.containers[name=web].image",
            0,
            "spec.template.spec.containers has no item with name=web (it has name: app, envoy)",
        ),
        ("spec.replicas.x", 0, "spec.replicas is not a mapping, so it has no key 'x'"),
        ("spec[0]", 0, "spec is not a list, so [0] does not apply"),
        (
            "spec.template.spec.containers[5]",
            0,
            "spec.template.spec.containers has 2 item(s); there is no [5]",
        ),
        (
            "spec.template",
            0,
            "spec.template holds a mapping, not a single value; "
            "point the path at a value inside it",
        ),
        (
            "metadata.labels.new",
            0,
            "metadata.labels.new does not exist and metadata.labels is not a block mapping with "
            "entries to add it to; write the key in the file first",
        ),
        (
            "spec.template.spec.containers[2].image",
            0,
            "spec.template.spec.containers has 2 item(s); there is no [2]",
        ),
        ("metadata.name", 2, "there is no document 2; the file has 2"),
    ],
)
def test_edits_that_cannot_apply_say_why(path: str, document: int, message: str) -> None:
    with pytest.raises(EditError) as caught:
        set_yaml(DEPLOYMENT, path, "v", document=document)
    assert str(caught.value) == message


def test_a_list_item_cannot_be_created() -> None:
    with pytest.raises(EditError) as caught:
        set_yaml("items:\n  - a\n", "extra[0]", "v")
    assert (
        str(caught.value)
        == "extra does not exist; only missing mapping keys can be added, not list items"
    )


def test_invalid_or_empty_yaml() -> None:
    with pytest.raises(EditError) as caught:
        set_yaml("a: [1, 2\n", "a", "v")
    assert str(caught.value).startswith("not valid YAML: ")
    with pytest.raises(EditError) as caught:
        set_yaml("# only a comment\n", "a", "v")
    assert str(caught.value) == "the file holds no YAML document"


def test_regex_replace_with_groups_and_a_count() -> None:
    text = "FROM ghcr.io/acme/app:v1 AS base\nFROM ghcr.io/acme/app:v1\n"
    assert replace_regex(text, r"(app):v\d+", r"\1:v2") == (text.replace(":v1", ":v2"), 2)
    assert replace_regex(text, r"app:v\d+$", "app:v3") == (
        "FROM ghcr.io/acme/app:v1 AS base\nFROM ghcr.io/acme/app:v3\n",
        1,
    )
    assert replace_regex(text, r"app:v1", "app:v2", count=1)[1] == 1
    assert replace_regex(text, r"nothing", "x") == (text, 0)


def test_bad_regexes_and_replacements() -> None:
    with pytest.raises(EditError) as caught:
        replace_regex("x", "(", "y")
    assert (
        str(caught.value)
        == "invalid regular expression '(': missing ), unterminated subpattern at position 0"
    )
    with pytest.raises(EditError) as caught:
        replace_regex("x", "x", r"\2")
    assert (
        str(caught.value) == "invalid replacement '\\\\2': invalid group reference 2 at position 1"
    )


def test_a_pattern_that_backtracks_without_end_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # the pattern is data from the experiment; Python's re backtracks in one C call
    monkeypatch.setattr(edits, "REGEX_TIMEOUT_S", 0.5)
    with pytest.raises(EditError) as refused:
        replace_regex("a" * 64 + "b\n", r"^(a+)+$", "x")
    assert str(refused.value) == (
        "the regular expression '^(a+)+$' took longer than 0.5s on the file, the most an "
        "edit may take (nested repetition such as (a+)+ backtracks without end)"
    )


def test_a_bad_replacement_is_refused_from_the_child() -> None:
    with pytest.raises(EditError, match=r"invalid replacement '\\\\2'"):
        replace_regex("app:v1", r"(app):v\d+", r"\2")
