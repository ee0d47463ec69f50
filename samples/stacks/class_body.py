"""A class body and a module's import-time code are frames of their own."""
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def at_class_creation():
    return 1


class Shape:
    created = at_class_creation()

    def area(self):
        return 0


import stacks_imported  # noqa: E402


def main():
    Shape().area()
    stacks_imported.used()


main()
