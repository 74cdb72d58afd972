"""Small-number suppression for published tables, with secondary suppression.

Primary: every count under the threshold (5) is shown as "<5" — zero included, since a
published zero can also tell something about a person.

Secondary: a hidden count must not be recoverable by arithmetic on what is shown. With
one hidden cell in a row whose total is shown, total minus the others gives it back; the
classic rule "two hidden cells per line" is not enough either (hidden cells joined by a
single bridge, or bounds: a "<5" cell is at most 4, a secondary one at least 5). So the
protection is audited exactly: a hidden cell is safe when the published table has
another solution in which that cell differs, i.e. when a +1/-1 move along a cycle of
hidden cells keeps every published total and every known bound. Cycles are found by a
breadth-first search over the lines (rows and columns, totals included). Unsafe cells
get a partner hidden (smallest count first, inner cells before totals) until every
hidden cell is safe. Secondary cells are shown as "*".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 5
SMALL = "<5"
HIDDEN = "*"
FREE = -1  # the "no constraint" end of a cell that belongs to only one line

Key = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Published:
    """What may be shown: strings only. Totals are None when the table has none."""

    cells: tuple[tuple[str, ...], ...]
    row_totals: tuple[str, ...] | None
    col_totals: tuple[str, ...] | None
    grand_total: str | None


class _Grid:
    """The table with its margins as one grid of cells and a list of lines.

    A line says: sum of its member cells = its total cell. Each cell belongs to at most
    two lines; (line, sign) pairs record membership (+1) or being the total (-1).
    """

    def __init__(self, values: Sequence[Sequence[int]], row_totals: bool, col_totals: bool):
        self.rows = len(values)
        self.cols = len(values[0]) if values else 0
        self.value: dict[Key, int] = {}
        self.inner: set[Key] = set()
        self.lines: list[dict[Key, int]] = []
        for r, row in enumerate(values):
            for c, v in enumerate(row):
                if v < 0:
                    raise ValueError("counts are never negative")
                self.value[(r, c)] = int(v)
                self.inner.add((r, c))
        R, C = self.rows, self.cols
        if row_totals:
            for r in range(R):
                self.value[(r, C)] = sum(values[r])
                self.lines.append({**{(r, c): 1 for c in range(C)}, (r, C): -1})
        if col_totals:
            for c in range(C):
                self.value[(R, c)] = sum(values[r][c] for r in range(R))
                self.lines.append({**{(r, c): 1 for r in range(R)}, (R, c): -1})
        if row_totals and col_totals:
            grand = sum(sum(row) for row in values)
            self.value[(R, C)] = grand
            self.lines.append({**{(r, C): 1 for r in range(R)}, (R, C): -1})
            self.lines.append({**{(R, c): 1 for c in range(C)}, (R, C): -1})
        self.ends: dict[Key, list[tuple[int, int]]] = {key: [] for key in self.value}
        for index, line in enumerate(self.lines):
            for key, sign in line.items():
                self.ends[key].append((index, sign))


class _Audit:
    """Finds, for one hidden cell, a feasible +1/-1 cycle through other hidden cells."""

    def __init__(self, grid: _Grid, hidden: set[Key], primary: set[Key], threshold: int):
        self.grid = grid
        self.hidden = hidden
        self.primary = primary
        self.threshold = threshold

    def can_move(self, key: Key, delta: int) -> bool:
        value = self.grid.value[key] + delta
        if key in self.primary:
            return 0 <= value <= self.threshold - 1
        return value >= self.threshold  # secondary: known to be at least the threshold

    def _endpoints(self, key: Key) -> list[tuple[int, int]]:
        ends = list(self.grid.ends[key])
        while len(ends) < 2:
            ends.append((FREE, 0))
        return ends

    def safe(self, key: Key) -> bool:
        return any(self._cycle(key, d) for d in (1, -1) if self.can_move(key, d))

    def _cycle(self, start: Key, delta: int) -> bool:
        (u, sign_u), (v, sign_v) = self._endpoints(start)
        if u == FREE:
            (u, sign_u), (v, sign_v) = (v, sign_v), (u, sign_u)
        # Walk from v back to u. State: (vertex, need) where the next cell b leaving the
        # vertex must have sign(b) * delta_b == need; at FREE anything goes (need 0).
        first = (v, 0 if v == FREE else -sign_v * delta)
        goal_need = sign_u * delta
        seen = {first}
        queue: deque[tuple[int, int, frozenset[Key]]] = deque([(*first, frozenset({start}))])
        while queue:
            vertex, need, used = queue.popleft()
            for key, sign, other, other_sign in self._leaving(vertex):
                if key in used or key not in self.hidden:
                    continue
                for step in (1, -1) if need == 0 else (need * sign,):
                    if not self.can_move(key, step):
                        continue
                    if other == FREE:
                        state = (FREE, 0)
                    else:
                        arriving = -other_sign * step
                        if other == u and arriving == goal_need:
                            return True
                        state = (other, arriving)
                    if state not in seen:
                        seen.add(state)
                        queue.append((*state, used | {key}))
        return False

    def _leaving(self, vertex: int) -> list[tuple[Key, int, int, int]]:
        """(cell, its sign at vertex, its other end, its sign there) for cells at vertex."""
        out: list[tuple[Key, int, int, int]] = []
        if vertex == FREE:
            for key in self.hidden:
                ends = self._endpoints(key)
                if ends[1][0] == FREE:
                    out.append((key, 0, ends[0][0], ends[0][1]))
            return out
        for key, sign in self.grid.lines[vertex].items():
            (a, sa), (b, sb) = self._endpoints(key)
            other, other_sign = (b, sb) if a == vertex else (a, sa)
            out.append((key, sign, other, other_sign))
        return out


def _partner(grid: _Grid, hidden: set[Key], key: Key) -> Key | None:
    """The cell to hide with `key`: same line first, inner before totals, smallest first."""
    near = {k for index, _ in grid.ends[key] for k in grid.lines[index]} - hidden
    for pool in (near & grid.inner, near, (set(grid.value) - hidden) & grid.inner):
        if pool:
            return min(pool, key=lambda k: (grid.value[k], k))
    rest = set(grid.value) - hidden
    return min(rest, key=lambda k: (grid.value[k], k)) if rest else None


def suppress(
    values: Sequence[Sequence[int]],
    *,
    row_totals: bool = True,
    col_totals: bool = True,
    threshold: int = THRESHOLD,
    hide_grand_total: bool = False,
) -> Published:
    """Protect a table of counts (rows × columns) and its totals for publication.

    `hide_grand_total` hides the overall total whatever its size: for a total another
    table publishes too, once that table had to hide it.
    """
    grid = _Grid(values, row_totals, col_totals)
    primary = {key for key, value in grid.value.items() if value < threshold}
    hidden = set(primary)
    grand = _grand_key(grid, row_totals, col_totals)
    if hide_grand_total and grand is not None:
        hidden.add(grand)
    audit = _Audit(grid, hidden, primary, threshold)
    pending = deque(sorted(hidden))
    while pending:
        key = pending.popleft()
        if audit.safe(key):
            continue
        partner = _partner(grid, hidden, key)
        if partner is None:
            continue  # everything is hidden already
        hidden.add(partner)
        pending.extend([key, partner])
    return _publish(grid, hidden, primary, row_totals, col_totals)


def _grand_key(grid: _Grid, row_totals: bool, col_totals: bool) -> Key | None:
    """The cell holding the overall total: the corner, or a one-row series' total."""
    if row_totals and col_totals:
        return (grid.rows, grid.cols)
    if row_totals and grid.rows == 1:
        return (0, grid.cols)
    if col_totals and grid.cols == 1:
        return (grid.rows, 0)
    return None


def grand_total_of(published: Published) -> str | None:
    """The published overall total (corner, or a one-row series' total), if any."""
    if published.grand_total is not None:
        return published.grand_total
    if published.row_totals is not None and len(published.row_totals) == 1:
        return published.row_totals[0]
    return None


def unsafe_cells(
    values: Sequence[Sequence[int]],
    published: Published,
    *,
    row_totals: bool = True,
    col_totals: bool = True,
    threshold: int = THRESHOLD,
) -> list[Key]:
    """Hidden cells that arithmetic on the published table pins down (should be [])."""
    grid = _Grid(values, row_totals, col_totals)
    shown = _strings(published, grid)
    hidden = {key for key, text in shown.items() if text in (SMALL, HIDDEN)}
    primary = {key for key, text in shown.items() if text == SMALL}
    audit = _Audit(grid, hidden, primary, threshold)
    return sorted(key for key in hidden if not audit.safe(key))


def _strings(published: Published, grid: _Grid) -> dict[Key, str]:
    out: dict[Key, str] = {}
    for r, row in enumerate(published.cells):
        for c, text in enumerate(row):
            out[(r, c)] = text
    if published.row_totals is not None:
        for r, text in enumerate(published.row_totals):
            out[(r, grid.cols)] = text
    if published.col_totals is not None:
        for c, text in enumerate(published.col_totals):
            out[(grid.rows, c)] = text
    if published.grand_total is not None:
        out[(grid.rows, grid.cols)] = published.grand_total
    return out


def _publish(
    grid: _Grid, hidden: set[Key], primary: set[Key], row_totals: bool, col_totals: bool
) -> Published:
    def text(key: Key) -> str:
        if key in primary:
            return SMALL
        if key in hidden:
            return HIDDEN
        return str(grid.value[key])

    R, C = grid.rows, grid.cols
    return Published(
        cells=tuple(tuple(text((r, c)) for c in range(C)) for r in range(R)),
        row_totals=tuple(text((r, C)) for r in range(R)) if row_totals else None,
        col_totals=tuple(text((R, c)) for c in range(C)) if col_totals else None,
        grand_total=text((R, C)) if row_totals and col_totals else None,
    )


def suppress_series(
    values: Sequence[int], *, threshold: int = THRESHOLD, hide_total: bool = False
) -> Published:
    """One row of counts with its total (a weekly series, a list of answers)."""
    return suppress(
        [list(values)],
        row_totals=True,
        col_totals=False,
        threshold=threshold,
        hide_grand_total=hide_total,
    )


def shown_count(value: int, threshold: int = THRESHOLD) -> str:
    """A lone count with no totals around it."""
    return SMALL if value < threshold else str(value)
