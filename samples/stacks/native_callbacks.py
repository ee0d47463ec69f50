"""Native functions that call back into Python: the callback runs under them, and an
exception raised by the callback leaves both."""


def keyfn(x):
    return -x


def double(x):
    return 2 * x


def bad_key(x):
    raise LookupError(x)


def main():
    print(sorted([3, 1, 2], key=keyfn))
    print(sum(map(double, [1, 2, 3])))
    try:
        sorted([1, 2], key=bad_key)
    except LookupError:
        print("raised through sorted")


main()
