"""KeyboardInterrupt: a real SIGINT arrives while a function sleeps three frames down and
is caught above; then one raised by hand. Every frame it unwinds is left."""
import os
import signal
import threading
import time


caught = threading.Event()


def interrupter():
    # SIGINT every 50 ms until main has caught one. One would do, but a signal that lands
    # just before the main thread enters the sleep's system call (a loaded machine) only
    # sets Python's flag, and the sleep then runs its full 5 s: CPython's own race.
    while not caught.wait(0.05):
        os.kill(os.getpid(), signal.SIGINT)


def sleeper():
    # SIGINT is delivered to the main thread while it sleeps here.
    threading.Thread(target=interrupter, daemon=True).start()
    time.sleep(5)


def middle():
    sleeper()


def raise_by_hand():
    raise KeyboardInterrupt


def after():
    return 1


def main():
    try:
        middle()
    except KeyboardInterrupt:
        caught.set()
        print("interrupted")
    try:
        raise_by_hand()
    except KeyboardInterrupt:
        print("interrupted again")
    after()


main()
