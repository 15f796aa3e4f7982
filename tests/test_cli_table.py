"""The terminal tables of search, stats and hunt list (cli/_table.py)."""

from __future__ import annotations

from huntbook.cli._table import CELL_WIDTH, text_table


def test_multivalue_cells_take_a_line_per_value_and_columns_line_up() -> None:
    lines = text_table(["host", "Logon_ID"], [["ws6", ["0x0", "0x32c5cb5"]], ["dc", None]]).split(
        "\n"
    )
    assert lines == [
        "host  Logon_ID",
        "----  ---------",
        "ws6   0x0",
        "      0x32c5cb5",
        "dc",
    ]


def test_wide_cells_are_cut_unless_last_and_cut_last_is_off() -> None:
    long = "x" * (CELL_WIDTH + 40)
    cut = text_table(["a", "b"], [[long, long]]).split("\n")[2]
    assert cut.count("…") == 2 and len(cut) == 2 * CELL_WIDTH + 2
    kept = text_table(["a", "b"], [[long, long]], header=False, cut_last=False)
    assert kept == "x" * (CELL_WIDTH - 1) + "…  " + long
