"""A small program with a bit of everything the profiler shows: nested calls, a function
that sleeps a known time, recursion, a generator, an exception caught a few frames up, and
two worker threads. `make demo` records it and converts the trace to a Firefox profile."""

import threading
import time


def nap():
    time.sleep(0.02)


def inner(n):
    return sum(i * i for i in range(n))


def middle(n):
    return inner(n) + inner(n // 2)


def outer():
    total = 0
    for n in (1000, 2000, 3000):
        total += middle(n)
    return total


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def consume():
    return [value * 2 for value in countdown(5)]


def fail_deep(depth):
    if depth == 0:
        raise ValueError("deep failure")
    fail_deep(depth - 1)


def catch_it():
    try:
        fail_deep(3)
    except ValueError as exc:
        return str(exc)


def worker(label, rounds):
    for _ in range(rounds):
        nap()
        outer()


def main():
    threads = [threading.Thread(target=worker, args=(f"w{i}", 2), name=f"worker-{i}")
               for i in range(2)]
    for t in threads:
        t.start()
    for _ in range(3):
        nap()
    print("outer:", outer())
    print("fib(15):", fib(15))
    print("consume:", consume())
    print("caught:", catch_it())
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
