import unittest

from minigeo import haversine_km, path_length_km


class DistanceTest(unittest.TestCase):
    def test_zero_for_the_same_point(self):
        self.assertEqual(haversine_km((48.85, 2.35), (48.85, 2.35)), 0.0)

    def test_paris_to_london(self):
        self.assertAlmostEqual(haversine_km((48.8566, 2.3522), (51.5074, -0.1278)), 343.6, delta=1.0)

    def test_symmetric(self):
        a, b = (10.0, 20.0), (-30.0, 140.0)
        self.assertAlmostEqual(haversine_km(a, b), haversine_km(b, a))

    def test_antipodes_are_half_the_circumference(self):
        self.assertAlmostEqual(haversine_km((0.0, 0.0), (0.0, 180.0)), 20015.1, delta=1.0)

    def test_path_length_adds_legs(self):
        a, b, c = (0.0, 0.0), (0.0, 1.0), (0.0, 2.0)
        self.assertAlmostEqual(path_length_km([a, b, c]), 2 * haversine_km(a, b))
        self.assertEqual(path_length_km([a]), 0)


if __name__ == "__main__":
    unittest.main()
