"""A program with its own sys.setprofile hook for a while."""
import sys

seen = []


def hook(frame, event, arg):
    if event == "call":
        seen.append(frame.f_code.co_name)


def profiled():
    return helper()


def helper():
    return 1


def after():
    return 1


def main():
    sys.setprofile(hook)
    profiled()
    sys.setprofile(None)
    print("seen:", seen)
    after()


main()
