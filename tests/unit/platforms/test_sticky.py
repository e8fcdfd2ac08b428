from __future__ import annotations

from dataclasses import dataclass

from iter8_action.platforms.sticky import find_marked, marker, normalize_key, with_marker


@dataclass
class Note:
    body: str
    author: str = "bot"


def _mine(note: Note) -> bool:
    return note.author == "bot"


def test_marker_is_a_hidden_html_comment_with_the_key() -> None:
    assert marker("load-test") == "<!-- iter8-py:comment key=load-test -->"


def test_keys_cannot_break_out_of_the_html_comment() -> None:
    assert normalize_key("a -->b<!--c") == "a_-_b__-c"
    assert normalize_key("   ") == "default"


def test_with_marker_puts_the_marker_first() -> None:
    assert with_marker("# Report", "k") == "<!-- iter8-py:comment key=k -->\n# Report"


def test_find_marked_finds_only_the_comment_of_its_key() -> None:
    notes = [Note("hello"), Note(with_marker("one", "a-b")), Note(with_marker("two", "a"))]
    assert find_marked(notes, "a", mine=_mine) == notes[2]
    assert find_marked(notes, "a-b", mine=_mine) == notes[1]
    assert find_marked(notes, "c", mine=_mine) is None


def test_find_marked_skips_a_marker_planted_by_someone_else() -> None:
    notes = [Note(with_marker("forged", "a"), author="mallory"), Note(with_marker("mine", "a"))]
    assert find_marked(notes, "a", mine=_mine) == notes[1]
    assert find_marked(notes[:1], "a", mine=_mine) is None
