import io

import pytest

from nurture.services.csv_import import read_rows


def rows(text):
    return list(read_rows(io.StringIO(text)))


def test_known_columns_fill_fields_and_others_become_typed_attributes():
    [row] = rows("Email,First Name,company_size,industry\nJo@Acme.Example,Jo,240,retail\n")
    assert row.line == 2
    assert row.lead.email == "jo@acme.example"
    assert row.lead.first_name == "Jo"
    assert row.lead.attributes == {"company_size": 240, "industry": "retail"}


def test_invalid_rows_carry_their_line_number_and_reason():
    text = (
        "email,time_zone,country\n"
        "ok@acme.example,Europe/Paris,FR\n"
        "not-an-email,,\n"
        '"multi@acme.example",Mars/Base,\n'
        "x@acme.example,,ZZ\n"
    )
    result = rows(text)
    assert [(r.line, r.lead is None) for r in result] == [
        (2, False),
        (3, True),
        (4, True),
        (5, True),
    ]
    assert "email" in result[1].error
    assert "unknown time zone 'Mars/Base'" in result[2].error
    assert "unknown country code 'ZZ'" in result[3].error


def test_line_numbers_count_records_spanning_lines():
    text = 'email,title\n"a@acme.example","VP\nMarketing"\nbad,\n'
    result = rows(text)
    assert [r.line for r in result] == [2, 4]


def test_missing_email_column_is_refused():
    with pytest.raises(ValueError, match="no 'email' column"):
        rows("name,company\nJo,Acme\n")


def test_row_with_more_cells_than_header_is_invalid():
    [row] = rows("email\na@acme.example,extra\n")
    assert row.lead is None and "2 cells but the header has 1" in row.error
