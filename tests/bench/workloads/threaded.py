"""Threaded workload: four threads doing call-heavy work at once.

Under the GIL the threads take turns, so the total work is what counts; what this adds over
the single-threaded workloads is the recorder's per-thread machinery: a hook installed in
every new thread (setprofile needs threading.setprofile for that), a buffer per thread,
and GIL switches every few milliseconds in the middle of the hot path.
"""

import threading

from _harness import run, scaled


class Counter:
    def __init__(self):
        self.hits = 0

    def bump(self, n):
        self.hits += n
        return self.hits


def collatz_len(n):
    steps = 0
    while n != 1:
        n = step(n)
        steps += 1
    return steps


def step(n):
    return n // 2 if n % 2 == 0 else 3 * n + 1


def partition_count(n, k):
    """Partitions of n into parts of size at most k (plain recursion)."""
    if n == 0:
        return 1
    if n < 0 or k == 0:
        return 0
    return partition_count(n - k, k) + partition_count(n, k - 1)


def worker(index, rounds, results):
    counter = Counter()
    total = 0
    for r in range(rounds):
        for n in range(1 + r * 40, 1 + r * 40 + 40):
            total += counter.bump(collatz_len(n)) % 97
        total += partition_count(22 + index, 8)
        total += len([c for c in str(total) if c in "13579"])
    results[index] = total


def main():
    rounds = scaled(100)
    results = [None] * 4
    threads = [threading.Thread(target=worker, args=(i, rounds, results), name="worker-%d" % i)
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


if __name__ == "__main__":
    run(main)
