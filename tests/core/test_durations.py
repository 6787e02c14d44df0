from datetime import timedelta

import pytest

from nurture.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
    ],
)
def test_parses_marketer_durations(text, expected):
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["2 days", "d2", "", "0d", "2x"])
def test_refuses_anything_else_naming_the_accepted_forms(text):
    with pytest.raises(ValueError, match="30m, 4h, 2d"):
        parse_duration(text)


def test_durations_print_the_way_marketers_write_them():
    assert format_duration(timedelta(days=30)) == "30d"
    assert format_duration(timedelta(days=14)) == "2w"
    assert format_duration(timedelta(days=1, hours=12)) == "1d12h"
