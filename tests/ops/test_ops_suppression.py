"""Small-number suppression: every count under 5 shows as "<5", and no hidden count can
be worked out from the totals — checked against an independent brute-force attacker
that tries every table consistent with what is published."""

from __future__ import annotations

from fractions import Fraction
from itertools import product
from math import lcm

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.operations.suppression import (
    HIDDEN,
    SMALL,
    Published,
    shown_count,
    suppress,
    suppress_series,
    unsafe_cells,
)

Key = tuple[int, int]
WINDOW = 2


def grid_of(values: list[list[int]], published: Published) -> tuple[dict[Key, int], dict[Key, str]]:
    """True values and published strings of every cell, totals included (R/C index)."""
    rows, cols = len(values), len(values[0])
    truth: dict[Key, int] = {}
    shown: dict[Key, str] = {}
    for r in range(rows):
        for c in range(cols):
            truth[(r, c)] = values[r][c]
            shown[(r, c)] = published.cells[r][c]
    if published.row_totals is not None:
        for r in range(rows):
            truth[(r, cols)] = sum(values[r])
            shown[(r, cols)] = published.row_totals[r]
    if published.col_totals is not None:
        for c in range(cols):
            truth[(rows, c)] = sum(values[r][c] for r in range(rows))
            shown[(rows, c)] = published.col_totals[c]
    if published.grand_total is not None:
        truth[(rows, cols)] = sum(map(sum, values))
        shown[(rows, cols)] = published.grand_total
    return truth, shown


def attacker_pins(values: list[list[int]], published: Published) -> set[Key]:
    """An independent attacker: solve the published line equations for the hidden cells
    (exact Gaussian elimination), then try every value of the free unknowns within the
    rules ("<5" means 0-4, "*" means 5 or more) near the truth. Returns the hidden cells
    that take one value in every solution, i.e. that arithmetic on the table recovers."""
    truth, shown = grid_of(values, published)
    rows, cols = len(values), len(values[0])
    lines: list[tuple[list[Key], Key]] = []
    if published.row_totals is not None:
        lines += [([(r, c) for c in range(cols)], (r, cols)) for r in range(rows)]
    if published.col_totals is not None:
        lines += [([(r, c) for r in range(rows)], (rows, c)) for c in range(cols)]
    if published.grand_total is not None:
        lines.append(([(r, cols) for r in range(rows)], (rows, cols)))
    hidden = [key for key, text in shown.items() if text in (SMALL, HIDDEN)]
    index = {key: i for i, key in enumerate(hidden)}
    known = {key: int(text) for key, text in shown.items() if text not in (SMALL, HIDDEN)}
    # Each line: sum(members) - total = 0, as [coefficients of hidden..., constant].
    matrix: list[list[Fraction]] = []
    for members, total in lines:
        row = [Fraction(0)] * (len(hidden) + 1)
        for key, sign in [*((m, 1) for m in members), (total, -1)]:
            if key in index:
                row[index[key]] += sign
            else:
                row[-1] -= sign * known[key]
        matrix.append(row)
    pivots: list[int] = []
    rank = 0
    for column in range(len(hidden)):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][column] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        lead = matrix[rank][column]
        matrix[rank] = [x / lead for x in matrix[rank]]
        for i in range(len(matrix)):
            if i != rank and matrix[i][column] != 0:
                factor = matrix[i][column]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        pivots.append(column)
        rank += 1
    free = [c for c in range(len(hidden)) if c not in pivots]

    def allowed(key: Key, value: int) -> bool:
        return 0 <= value <= 4 if shown[key] == SMALL else value >= 5

    # Each pivot unknown in whole numbers: scale * x = constant - sum(coefficient * free),
    # and x is a count only when the right side divides exactly (exact, like the
    # fractions, and fast enough to try every combination below).
    integral: list[tuple[int, int, int, list[int]]] = []
    for r, column in enumerate(pivots):
        row = matrix[r]
        scale = lcm(*(x.denominator for x in row))
        integral.append((column, scale, int(row[-1] * scale), [int(row[c] * scale) for c in free]))

    # Try the free unknowns within WINDOW of the truth: a table of counts with its
    # margins has integral extreme points, so if another solution exists, one exists
    # that moves each cell by at most 1; the window is wider than that, to be safe.
    # A free unknown outside its own rule ("<5" or "*") is no solution, so it is not tried.
    seen: dict[Key, set[int]] = {key: set() for key in hidden}
    domains = [
        [
            v
            for v in range(truth[hidden[c]] - WINDOW, truth[hidden[c]] + WINDOW + 1)
            if allowed(hidden[c], v)
        ]
        for c in free
    ]
    for combo in product(*domains):
        solution = dict(zip(free, combo, strict=True))
        for column, scale, constant, coefficients in integral:
            value, remainder = divmod(
                constant - sum(a * x for a, x in zip(coefficients, combo, strict=True)), scale
            )
            if remainder or not allowed(hidden[column], value):
                break
            solution[column] = value
        else:
            for c, v in solution.items():
                seen[hidden[c]].add(v)
    assert all(truth[key] in seen[key] for key in hidden)  # the truth is a solution
    return {key for key, values_ in seen.items() if len(values_) == 1}


def test_every_count_under_five_is_shown_as_under_five() -> None:
    values = [[0, 1, 4, 5], [7, 9, 12, 30]]
    published = suppress(values)
    assert published.cells[0][:3] == (SMALL, SMALL, SMALL)
    for row, texts in zip(values, published.cells, strict=True):
        for value, text in zip(row, texts, strict=True):
            assert (text == SMALL) == (value < 5)
            assert text in (SMALL, HIDDEN) or int(text) == value
    # Zero and 1 in columns with shown totals would be pinned by subtraction: so the
    # column partners are hidden too.
    assert attacker_pins(values, published) == set()
    assert shown_count(4) == SMALL
    assert shown_count(5) == "5"


def test_subtraction_from_the_total_cannot_recover_a_small_count() -> None:
    """The case the rule exists for: Hull 3, Hackney 10, Wirral 12, total 25."""
    values = [[3, 10, 12]]
    naive = Published(
        cells=((SMALL, "10", "12"),), row_totals=("25",), col_totals=None, grand_total=None
    )
    # The broken variant (primary suppression only) gives it away: 25 - 10 - 12 = 3.
    assert 25 - 10 - 12 == 3
    assert unsafe_cells(values, naive, col_totals=False) == [(0, 0)]
    assert attacker_pins(values, naive) == {(0, 0)}

    protected = suppress_series([3, 10, 12])
    assert protected.cells == ((SMALL, HIDDEN, "12"),)
    assert protected.row_totals == ("25",)
    assert unsafe_cells(values, protected, col_totals=False) == []
    assert attacker_pins(values, protected) == set()


def test_two_way_table_with_margins_is_protected_rows_and_columns() -> None:
    values = [[3, 10, 12], [8, 9, 20], [6, 7, 5]]
    published = suppress(values)
    assert published.cells[0][0] == SMALL
    assert published.grand_total == str(sum(map(sum, values)))
    assert unsafe_cells(values, published) == []
    assert attacker_pins(values, published) == set()


def test_two_hidden_per_line_is_not_enough_when_bounds_pin_them() -> None:
    """The classic rule (two hidden cells per line) fails here: "<5" is at most 4 and
    "*" at least 5, so 25 - 20 = 5 = 0 + 5 pins both. The audit sees it; so does the
    attacker; the real output hides more."""
    values = [[0, 5, 20]]
    two_per_line = Published(
        cells=((SMALL, HIDDEN, "20"),), row_totals=("25",), col_totals=None, grand_total=None
    )
    assert attacker_pins(values, two_per_line) == {(0, 0), (0, 1)}
    assert unsafe_cells(values, two_per_line, col_totals=False) == [(0, 0), (0, 1)]

    protected = suppress_series([0, 5, 20])
    assert protected.cells == ((SMALL, HIDDEN, HIDDEN),)
    assert attacker_pins(values, protected) == set()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 11]), min_size=2, max_size=3),
        min_size=2,
        max_size=2,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)
)
def test_no_hidden_count_is_ever_pinned_by_brute_force(values: list[list[int]]) -> None:
    published = suppress(values)
    assert attacker_pins(values, published) == set()
    assert unsafe_cells(values, published) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9, 14]), min_size=1, max_size=5))
def test_series_with_total_is_never_pinned(values: list[int]) -> None:
    published = suppress_series(values)
    assert attacker_pins([values], published) == set()
