"""Chaos-game workload: an iterated function system drawn point by point.

Each step picks one of several affine maps at random (random.random, a C call), applies it
to a small point object, bends the result along a Bezier curve evaluated by de Casteljau's
recursive interpolation, and plots it into a grid: a mix of float arithmetic, tiny methods,
recursion and C calls, in the manner of pyperformance's chaos benchmark.
"""

import random

from _harness import run, scaled


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def lerp(self, other, t):
        return Point(self.x + (other.x - self.x) * t, self.y + (other.y - self.y) * t)

    def shifted(self, dx, dy):
        return Point(self.x + dx, self.y + dy)


class Affine:
    """x' = a x + b y + e, y' = c x + d y + f, chosen with probability `weight`."""

    def __init__(self, a, b, c, d, e, f, weight):
        self.a, self.b, self.c, self.d, self.e, self.f = a, b, c, d, e, f
        self.weight = weight

    def apply(self, p):
        return Point(self.a * p.x + self.b * p.y + self.e, self.c * p.x + self.d * p.y + self.f)


def bezier(points, t):
    """de Casteljau: interpolate neighbours until one point is left."""
    if len(points) == 1:
        return points[0]
    return bezier([points[i].lerp(points[i + 1], t) for i in range(len(points) - 1)], t)


class Canvas:
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.cells = [[0] * width for _ in range(height)]

    def plot(self, p):
        col = int((p.x + 3.0) / 6.0 * (self.width - 1))
        row = int((p.y + 0.5) / 11.0 * (self.height - 1))
        if 0 <= col < self.width and 0 <= row < self.height:
            self.cells[row][col] += 1
            return True
        return False

    def lit(self):
        return sum(1 for row in self.cells for c in row if c)


def choose(maps, r):
    for m in maps:
        if r < m.weight:
            return m
        r -= m.weight
    return maps[-1]


def main():
    rng = random.Random(1234)
    maps = [Affine(0.0, 0.0, 0.0, 0.16, 0.0, 0.0, 0.01),
            Affine(0.85, 0.04, -0.04, 0.85, 0.0, 1.6, 0.85),
            Affine(0.2, -0.26, 0.23, 0.22, 0.0, 1.6, 0.07),
            Affine(-0.15, 0.28, 0.26, 0.24, 0.0, 0.44, 0.07)]
    curve = [Point(0.0, 0.0), Point(0.4, 0.3), Point(-0.3, 0.6), Point(0.1, 1.0)]
    canvas = Canvas(120, 160)
    p = Point(0.0, 0.0)
    plotted = 0
    for _ in range(scaled(75000)):
        p = choose(maps, rng.random()).apply(p)
        bend = bezier(curve, p.y / 10.0)
        plotted += canvas.plot(p.shifted(bend.x, 0.0))
    return [plotted, canvas.lit()]


if __name__ == "__main__":
    run(main)
