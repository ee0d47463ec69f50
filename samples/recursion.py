"""Recursion: a deep recursive walk and mutual recursion."""

import sys


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    print(depth(500), is_even(100))
