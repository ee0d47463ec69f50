"""Threads: each worker runs a function of its own name, so a profile can be checked thread
by thread. One thread is renamed while running; one is a daemon still busy at exit."""

import sys
import threading
import time


def work_alpha():
    time.sleep(0.01)
    return sum(range(10000))


def work_beta():
    time.sleep(0.01)
    return sorted(range(5000), key=lambda x: -x)[0]


def forever():
    while True:
        time.sleep(0.005)


def main():
    daemon = threading.Thread(target=forever, name="daemon-sleeper", daemon=True)
    daemon.start()
    a = threading.Thread(target=work_alpha, name="alpha")
    b = threading.Thread(target=work_beta, name="beta")
    a.start()
    b.start()
    a.join()
    b.join()
    print("threads done", threading.active_count() >= 1)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
