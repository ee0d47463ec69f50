"""Recursion 3,000 deep: every level is on the stack, each nested in the one above."""
import sys

sys.setrecursionlimit(10000)


def down(n):
    if n == 0:
        return bottom()
    return down(n - 1) + 1


def bottom():
    return 0


def main():
    print(down(2999))


main()
