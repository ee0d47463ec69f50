"""An exception raised four frames down and caught by the catcher: each frame unwound is
left when the exception passes, and the catcher goes on with its own calls."""
import time


def raiser():
    time.sleep(0.01)
    raise ValueError("deep")


def mid3():
    raiser()


def mid2():
    mid3()


def mid1():
    mid2()


def after():
    time.sleep(0.01)


def catcher():
    try:
        mid1()
    except ValueError:
        pass
    after()


catcher()
