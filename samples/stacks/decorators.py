"""A decorator's wrapper is the caller of the function it wraps."""
import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@logged
def decorated(x):
    return helper(x)


def helper(x):
    return x + 1


def main():
    print(decorated(1))


main()
