"""Exceptions: raised several frames down and caught above; every frame unwound is left,
and the catcher goes on with its own calls."""


def level3():
    raise KeyError("missing")


def level2():
    level3()


def level1():
    level2()


def after_catch():
    return "recovered"


def catcher():
    try:
        level1()
    except KeyError:
        pass
    return after_catch()


def native_raises():
    try:
        int("not a number")
    except ValueError:
        return "int() raised"


if __name__ == "__main__":
    print(catcher())
    print(native_raises())
