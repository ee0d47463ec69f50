"""Generator-heavy workload: lazy pipelines, `yield from` delegation and coroutines.

Every value crosses several generator frames, so the recorder sees a stream of suspends and
resumes rather than calls and returns (YIELD/RESUME on 3.12+, RETURN/CALL under setprofile),
as in pyperformance's generators and coroutines benchmarks.
"""

from _harness import run, scaled


def numbers(n):
    i = 0
    while i < n:
        yield i
        i += 1


def squares(source):
    for x in source:
        yield x * x


def only_odd(source):
    for x in source:
        if x & 1:
            yield x


def windows(source, size):
    """Sums of consecutive, non-overlapping groups of `size` values."""
    total, count = 0, 0
    for x in source:
        total += x
        count += 1
        if count == size:
            yield total
            total, count = 0, 0
    if count:
        yield total


def chained(*sources):
    for source in sources:
        yield from source


class Tree:
    def __init__(self, value, left=None, right=None):
        self.value, self.left, self.right = value, left, right

    def walk(self):
        """In-order traversal by recursive delegation: each value passes through every
        generator between its node and the root."""
        if self.left is not None:
            yield from self.left.walk()
        yield self.value
        if self.right is not None:
            yield from self.right.walk()


def balanced(lo, hi):
    if lo > hi:
        return None
    mid = (lo + hi) // 2
    return Tree(mid, balanced(lo, mid - 1), balanced(mid + 1, hi))


def averager():
    """A coroutine driven by send(): yields the running mean of what it was sent."""
    total, count, mean = 0.0, 0, None
    while True:
        value = yield mean
        total += value
        count += 1
        mean = total / count


def main():
    n = scaled(700000)
    check = sum(windows(only_odd(squares(numbers(n))), 7))
    check += sum(chained(numbers(n // 4), squares(numbers(n // 4)), range(10)))
    tree = balanced(0, 4095)
    for _ in range(scaled(80)):
        check += sum(x for x in tree.walk() if x % 3)
    mean = averager()
    next(mean)
    for x in numbers(n):
        m = mean.send(x)
    check += int(m)
    return check


if __name__ == "__main__":
    run(main)
