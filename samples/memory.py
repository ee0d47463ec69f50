"""Memory: blocks of known sizes kept, freed, and allocated on another thread, so that a
profile recorded with --memory can be checked function by function and thread by thread.

make_big keeps 30 blocks of 1 MB until the end; make_temp allocates 20 blocks of 1 MB and
frees them before it returns; the thread "allocator" keeps 10 blocks of 500 kB. Each block
is one bytes object, allocated by the call of bytes() in the function itself."""

import threading

MB = 1000 * 1000
kept = []          # the thread's blocks
big = []           # make_big's


def make_big():
    blocks = []
    for _ in range(30):
        blocks.append(bytes(MB))
    return blocks


def make_temp():
    blocks = []
    for _ in range(20):
        blocks.append(bytes(MB))
    total = 0
    for b in blocks:
        total += len(b)
    del blocks, b      # every block freed here, none when the frame ends
    return total


def thread_alloc():
    for _ in range(10):
        kept.append(bytes(MB // 2))


def main():
    big.extend(make_big())
    total = make_temp()
    t = threading.Thread(target=thread_alloc, name="allocator")
    t.start()
    t.join()
    print("kept %d MB, freed %d MB, thread kept %d blocks" % (
        sum(len(b) for b in big) // MB, total // MB, len(kept)))


if __name__ == "__main__":
    main()
