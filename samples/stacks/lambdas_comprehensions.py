"""Lambdas and comprehensions are named as Python names them."""


def item(x):
    return x


def main():
    square = lambda x: item(x) * x  # noqa: E731
    print(square(3))
    print([item(i) for i in range(2)])
    print({item(i) for i in range(2)})
    print({i: item(i) for i in range(2)})
    print(list(item(i) for i in range(2)))


class Holder:
    def method(self):
        return [item(i) for i in range(1)]


main()
Holder().method()
