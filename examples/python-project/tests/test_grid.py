import random
import unittest

from minigeo import GridIndex, greedy_tour, haversine_km


class GridTest(unittest.TestCase):
    def test_empty_index(self):
        self.assertIsNone(GridIndex([]).nearest((0.0, 0.0)))

    def test_rejects_non_positive_cells(self):
        with self.assertRaises(ValueError):
            GridIndex([], cell_deg=0)

    def test_nearest_matches_brute_force(self):
        rng = random.Random(1)
        pts = [(rng.uniform(40, 50), rng.uniform(0, 10)) for _ in range(300)]
        index = GridIndex(pts, cell_deg=0.5)
        for _ in range(100):
            q = (rng.uniform(39, 51), rng.uniform(-1, 11))
            want = min(haversine_km(q, p) for p in pts)
            self.assertAlmostEqual(index.nearest(q)[1], want)

    def test_greedy_tour_visits_every_point_once(self):
        rng = random.Random(2)
        pts = [(rng.uniform(40, 50), rng.uniform(0, 10)) for _ in range(50)]
        tour = greedy_tour(pts)
        self.assertEqual(sorted(tour), sorted(pts))
        self.assertEqual(tour[0], pts[0])


if __name__ == "__main__":
    unittest.main()
