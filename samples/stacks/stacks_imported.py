"""Imported by class_body.py: its top-level code runs at import."""


def at_import():
    return 1


def used():
    return 2


VALUE = at_import()
