"""KeyboardInterrupt: a real SIGINT arrives while a function sleeps three frames down and
is caught above; then one raised by hand. Every frame it unwinds is left."""
import os
import signal
import threading
import time


def sleeper():
    # SIGINT is delivered to the main thread while it sleeps here.
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
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
        print("interrupted")
    try:
        raise_by_hand()
    except KeyboardInterrupt:
        print("interrupted again")
    after()


main()
