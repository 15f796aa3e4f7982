from __future__ import annotations

import pytest

from huntbook.errors import (
    HuntbookError,
    SourceLocation,
    SplSyntaxError,
    UnsupportedSplError,
    did_you_mean,
)


def test_syntax_error_points_at_line_and_column_with_caret():
    err = SplSyntaxError("expected a value", "index=main\n| eval x=", 19)
    assert (err.line, err.col) == (2, 9)
    text = str(err)
    assert text.startswith("Line 2, Col 9: expected a value")
    assert text.splitlines()[1] == "  | eval x="
    assert text.splitlines()[2] == "  " + " " * 8 + "^"


@pytest.mark.parametrize(
    ("pos", "lead", "trail"), [(1000, "...", "..."), (5, "", "..."), (1995, "...", "")]
)
def test_long_query_shows_a_window_around_the_caret(pos, lead, trail):
    """A 2,000-character line prints ~60 characters each side of the caret, cut with '...'."""
    line = "a" * pos + "#" + "b" * (1999 - pos)
    err = SplSyntaxError("bad", "index=x\n" + line, len("index=x\n") + pos)
    header, text, caret = str(err).splitlines()
    assert header == f"Line 2, Col {pos + 1}: bad"
    assert text == "  " + lead + line[max(0, pos - 60) : pos + 60] + trail
    assert caret == " " * text.index("#") + "^"


def test_unsupported_is_a_syntax_error_and_a_huntbook_error():
    with pytest.raises(HuntbookError):
        raise UnsupportedSplError("unsupported command 'foo'", "| foo", 2)


@pytest.mark.parametrize(
    ("name", "choices", "expected"),
    [
        ("stast", ["stats", "search", "sort"], " Did you mean 'stats'?"),
        ("TRANSACTON", ["transaction"], " Did you mean 'transaction'?"),
        ("zzz", ["stats"], ""),
    ],
)
def test_did_you_mean(name, choices, expected):
    assert did_you_mean(name, choices) == expected


def test_source_location_renders_path_line_col():
    assert str(SourceLocation("hunt.md", 12, 3)) == "hunt.md, line 12, col 3"
    assert str(SourceLocation(line=4)) == "<input>, line 4"


def test_every_error_class_is_public_and_documented() -> None:
    """docs/errors.md is generated from ``__all__``: a class left out of it has no documented
    exit code."""
    import huntbook.errors as errors

    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.HuntbookError)
    }
    assert classes <= set(errors.__all__)
    tree = errors.__doc__ or ""
    assert all(name in tree for name in classes)
