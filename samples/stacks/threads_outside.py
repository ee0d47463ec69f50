"""Threads the recording did not see start: one already running Python code when the
program starts recording through the API, one from _thread.start_new_thread, and a native
thread (pthread_create through ctypes) calling a Python callback.

usage: threads_outside.py RUN_DIR MODE"""
import _thread
import ctypes
import sys
import threading
import time

from functiontrace import record

stop = threading.Event()


def work_before():
    return 1


def spin():
    started.set()
    while not stop.is_set():
        work_before()
        time.sleep(0.001)


def work_raw():
    return 2


def raw_thread():
    work_raw()
    raw_done.set()


def work_native():
    return 3


def native_entry(arg):
    work_native()
    return None


started, raw_done = threading.Event(), threading.Event()
before = threading.Thread(target=spin, name="before")
before.start()
started.wait()

record.start(sys.argv[1], ["threads_outside.py"], sys.argv[2])
time.sleep(0.02)

_thread.start_new_thread(raw_thread, ())
raw_done.wait()

libc = ctypes.CDLL(None)
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
callback = CALLBACK(native_entry)
tid = ctypes.c_ulong()
assert libc.pthread_create(ctypes.byref(tid), None, callback, None) == 0
assert libc.pthread_join(tid, None) == 0

stop.set()
before.join()
record.stop()
print("done")
