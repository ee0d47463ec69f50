"""Async functions under asyncio.gather: a coroutine leaves the stack at each await that
suspends and re-enters it when resumed."""
import asyncio


def step_work(i):
    return i * i


async def waiter(name, naps):
    total = 0
    for i in range(naps):
        total += step_work(i)
        await asyncio.sleep(0.005)
    return name, total


async def both():
    return await asyncio.gather(waiter("a", 3), waiter("b", 2))


def main():
    print(asyncio.run(both()))


main()
