"""Recursion-heavy workload: deep and wide recursion with tiny frames.

Naive Fibonacci, Towers of Hanoi, building and walking binary trees, and a recursive
permutation count: almost every instruction is a call or a return, the worst case for a
tracer's per-call cost (like the recursion in a raytracer, or pyperformance's hanoi).
"""

from _harness import run, scaled


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def hanoi(n, source, target, spare, moves):
    if n == 0:
        return
    hanoi(n - 1, source, spare, target, moves)
    moves[target] += 1
    hanoi(n - 1, spare, target, source, moves)


class Node:
    __slots__ = ("left", "right", "value")

    def __init__(self, left, right, value):
        self.left = left
        self.right = right
        self.value = value


def build(depth, value):
    if depth == 0:
        return Node(None, None, value)
    return Node(build(depth - 1, 2 * value), build(depth - 1, 2 * value + 1), value)


def tree_sum(node):
    if node is None:
        return 0
    return node.value + tree_sum(node.left) + tree_sum(node.right)


def tree_height(node):
    if node is None:
        return 0
    return 1 + max(tree_height(node.left), tree_height(node.right))


def queens(n, row=0, cols=0, diag1=0, diag2=0):
    """Number of ways to place n non-attacking queens (bitmask recursion)."""
    if row == n:
        return 1
    count = 0
    for col in range(n):
        c, d1, d2 = 1 << col, 1 << (row + col), 1 << (row - col + n)
        if not (cols & c or diag1 & d1 or diag2 & d2):
            count += queens(n, row + 1, cols | c, diag1 | d1, diag2 | d2)
    return count


def main():
    rounds = scaled(40)
    total = 0
    for _ in range(rounds):
        total += fib(20)
        moves = {"a": 0, "b": 0, "c": 0}
        hanoi(13, "a", "c", "b", moves)
        total += moves["c"]
        tree = build(12, 1)
        total += tree_sum(tree) + tree_height(tree)
        total += queens(6)
    return total


if __name__ == "__main__":
    run(main)
