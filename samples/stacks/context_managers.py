"""A class-based and a contextlib context manager: __enter__/__exit__ under the with's
function, the body's calls between them."""
import contextlib


class Managed:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@contextlib.contextmanager
def managed_gen():
    setup()
    yield 1
    teardown()


def setup():
    pass


def teardown():
    pass


def inside():
    return 1


def use_both():
    with Managed():
        inside()
    with managed_gen():
        inside()


use_both()
