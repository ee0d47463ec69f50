"""Native functions that raise: the native call ends where the exception leaves it."""
import math


def bad_sqrt():
    try:
        math.sqrt(-1.0)
    except ValueError:
        return "sqrt"


def bad_index():
    try:
        "abc".index("z")
    except ValueError:
        return "index"


def after():
    return 1


def main():
    print(bad_sqrt(), bad_index())
    after()


main()
