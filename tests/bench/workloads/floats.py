"""Float-heavy workload: an n-body simulation and the spectral norm of a matrix.

Floating-point arithmetic dominates, but as in real numeric Python code it is split into
small functions and methods (a vector helper, the matrix element function), so the calls
still matter (the shape of pyperformance's nbody, spectral_norm and float).
"""

import math

from _harness import run, scaled


class Body:
    def __init__(self, x, y, z, vx, vy, vz, mass):
        self.x, self.y, self.z = x, y, z
        self.vx, self.vy, self.vz = vx, vy, vz
        self.mass = mass

    def kinetic(self):
        return 0.5 * self.mass * (self.vx * self.vx + self.vy * self.vy + self.vz * self.vz)

    def drift(self, dt):
        self.x += dt * self.vx
        self.y += dt * self.vy
        self.z += dt * self.vz


def pull(a, b, dt):
    """Update the velocities of a and b for their mutual gravity over dt."""
    dx, dy, dz = a.x - b.x, a.y - b.y, a.z - b.z
    d2 = dx * dx + dy * dy + dz * dz
    mag = dt / (d2 * math.sqrt(d2))
    ma, mb = a.mass * mag, b.mass * mag
    a.vx -= dx * mb
    a.vy -= dy * mb
    a.vz -= dz * mb
    b.vx += dx * ma
    b.vy += dy * ma
    b.vz += dz * ma


def potential(bodies):
    e = 0.0
    for i, a in enumerate(bodies):
        for b in bodies[i + 1:]:
            d = math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2 + (a.z - b.z) ** 2)
            e -= a.mass * b.mass / d
    return e


def make_system():
    """A star and four planets on roughly circular orbits (units where G = 1)."""
    bodies = [Body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0)]
    for k in range(1, 5):
        r = 3.0 * k
        speed = math.sqrt(1000.0 / r)
        angle = 1.3 * k
        bodies.append(Body(r * math.cos(angle), r * math.sin(angle), 0.1 * k,
                           -speed * math.sin(angle), speed * math.cos(angle), 0.0,
                           0.5 + 0.25 * k))
    return bodies


def nbody(steps, dt=0.0005):
    bodies = make_system()
    pairs = [(a, b) for i, a in enumerate(bodies) for b in bodies[i + 1:]]
    for _ in range(steps):
        for a, b in pairs:
            pull(a, b, dt)
        for body in bodies:
            body.drift(dt)
    return sum(b.kinetic() for b in bodies) + potential(bodies)


def matrix_a(i, j):
    """Element (i, j) of the infinite matrix whose spectral norm is sought."""
    s = i + j
    return 1.0 / (s * (s + 1) / 2 + i + 1)


def times_a(u):
    n = len(u)
    return [sum(matrix_a(i, j) * u[j] for j in range(n)) for i in range(n)]


def times_at(u):
    n = len(u)
    return [sum(matrix_a(j, i) * u[j] for j in range(n)) for i in range(n)]


def spectral_norm(n, iterations):
    u = [1.0] * n
    for _ in range(iterations):
        v = times_at(times_a(u))
        u = times_at(times_a(v))
    vbv = sum(a * b for a, b in zip(u, v))
    vv = sum(b * b for b in v)
    return math.sqrt(vbv / vv)


def main():
    energy = nbody(scaled(40000))
    norm = spectral_norm(100, scaled(24))
    # Rounded: the check must not depend on the last bits of libm.
    return [round(energy, 6), round(norm, 9)]


if __name__ == "__main__":
    run(main)
