"""Generators and `yield from`: the generator's frame is on the stack only while it runs;
close() and throw() resume it one last time."""


def leaf(i):
    return i + 1


def produce(n):
    for i in range(n):
        yield leaf(i)


def relay(n):
    yield from produce(n)
    yield -1


def between(v):
    return v * 2


def consume():
    total = 0
    for v in relay(3):
        total += between(v)
    return total


def endless():
    try:
        while True:
            yield 0
    finally:
        cleanup()


def cleanup():
    pass


def stop_early():
    g = endless()
    next(g)
    g.close()
    g = endless()
    next(g)
    try:
        g.throw(KeyError("thrown"))
    except KeyError:
        pass


def main():
    print(consume())
    stop_early()


main()
