"""Debugged with pdb, commands read from stdin."""
import pdb


def inner(x):
    y = x + 1
    return y


def target():
    return inner(1)


def after():
    return 1


pdb.Pdb(nosigint=True).runcall(target)
print("result", after())
