"""Generators and coroutines: a suspended frame leaves the stack and re-enters on resume,
so work done by the consumer between two resumes is never shown inside the generator."""

import asyncio


def produce(n):
    for i in range(n):
        yield i


def between(i):
    return i * 3


def consumer():
    total = 0
    for value in produce(4):
        total += between(value)
    return total


def relay():
    yield from produce(3)


async def tick(delay):
    await asyncio.sleep(delay)
    return delay


async def gather_ticks():
    return await asyncio.gather(tick(0.01), tick(0.02))


if __name__ == "__main__":
    print(consumer())
    print(list(relay()))
    print(asyncio.run(gather_ticks()))
