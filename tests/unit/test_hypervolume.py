"""Hypervolume of (UR, Score) fronts: hand-computed values and a grid-counting reference twin."""

import numpy as np
import pytest

from bao.plots.sweep import hypervolume, pareto_front


def test_one_point_is_its_rectangle():
    assert hypervolume([(0.2, 0.5)]) == pytest.approx(0.8 * 0.5)


def test_two_points_by_inclusion_exclusion():
    # rectangles [0.2, 1] x [0, 0.5] and [0.5, 1] x [0, 0.8]: 0.4 + 0.4 - 0.25 overlap
    assert hypervolume([(0.2, 0.5), (0.5, 0.8)]) == pytest.approx(0.55)


def test_dominated_and_out_of_box_points_add_nothing():
    base = hypervolume([(0.2, 0.5), (0.5, 0.8)])
    assert hypervolume([(0.2, 0.5), (0.5, 0.8), (0.6, 0.4), (1.0, 0.9), (0.3, 0.0)]) == pytest.approx(base)
    assert pareto_front([(0.2, 0.5), (0.6, 0.4), (0.5, 0.8)]) == [(0.2, 0.5), (0.5, 0.8)]
    assert hypervolume([]) == 0.0


def _grid_reference(points, n=100):
    """Count the n x n cells of [0, 1]^2 whose centre some point dominates (UR >= ur_i, Score <= sc_i)."""
    c = (np.arange(n) + 0.5) / n
    ur, sc = np.meshgrid(c, c, indexing="ij")
    covered = np.zeros_like(ur, dtype=bool)
    for u, s in points:
        covered |= (ur >= u) & (sc <= s)
    return covered.sum() / n**2


@pytest.mark.parametrize("seed", range(5))
def test_matches_grid_counting(seed):
    gen = np.random.default_rng(seed)
    pts = [tuple(p) for p in gen.integers(0, 100, (6, 2)) / 100]  # on the grid, so counting is exact
    assert hypervolume(pts) == pytest.approx(_grid_reference(pts), abs=1e-9)
