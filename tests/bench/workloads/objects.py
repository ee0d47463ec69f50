"""Object-heavy workload: a warehouse simulation.

Robots carry items between bins to fulfil orders. The work is almost all small methods,
attribute reads and writes, a class hierarchy with overridden methods and super() calls,
and properties: the shape of richards or deltablue, where each call does very little.
"""

from _harness import run, scaled


class Rng:
    """A linear congruential generator as an object, so that drawing a number is a method
    call like everything else here (random.random would be a C call)."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state

    def below(self, n):
        # The low bits of this generator have short periods; use the high ones.
        return (self.next() >> 12) % n


class Item:
    def __init__(self, sku, weight):
        self.sku = sku
        self.weight = weight


class Bin:
    def __init__(self, index, capacity):
        self.index = index
        self.capacity = capacity
        self.items = []
        self.load = 0

    def fits(self, item):
        return self.load + item.weight <= self.capacity

    def put(self, item):
        self.items.append(item)
        self.load += item.weight

    def take(self, sku):
        for i, item in enumerate(self.items):
            if item.sku == sku:
                self.load -= item.weight
                return self.items.pop(i)
        return None

    @property
    def free(self):
        return self.capacity - self.load


class ColdBin(Bin):
    """A bin that charges a handling cost: overridden methods that call the base class."""

    def __init__(self, index, capacity):
        super().__init__(index, capacity)
        self.handled = 0

    def put(self, item):
        self.handled += 1
        super().put(item)

    def take(self, sku):
        item = super().take(sku)
        if item is not None:
            self.handled += 1
        return item


class Robot:
    def __init__(self, name):
        self.name = name
        self.position = 0
        self.distance = 0
        self.carrying = None
        self.deliveries = 0

    def move_to(self, position):
        step = position - self.position
        self.distance += step if step > 0 else -step
        self.position = position

    def pick(self, bin_, sku):
        self.move_to(bin_.index)
        self.carrying = bin_.take(sku)
        return self.carrying is not None

    def drop(self, bin_):
        self.move_to(bin_.index)
        bin_.put(self.carrying)
        self.carrying = None
        self.deliveries += 1


class Warehouse:
    def __init__(self, nbins, capacity):
        self.bins = [ColdBin(i, capacity) if i % 4 == 0 else Bin(i, capacity)
                     for i in range(nbins)]
        self.where = {}          # sku -> index of a bin holding it

    def stock(self, item, start):
        n = len(self.bins)
        for k in range(n):
            bin_ = self.bins[(start + k) % n]
            if bin_.fits(item):
                bin_.put(item)
                self.where[item.sku] = bin_.index
                return True
        return False

    def locate(self, sku):
        index = self.where.get(sku)
        return None if index is None else self.bins[index]

    def emptiest(self, near):
        best = self.bins[near]
        for offset in (1, 2, 3):
            other = self.bins[(near + offset) % len(self.bins)]
            if other.free > best.free:
                best = other
        return best

    def move(self, robot, sku, near):
        """Move item sku to the emptiest bin near `near`; False if it is nowhere."""
        source = self.locate(sku)
        if source is None or not robot.pick(source, sku):
            return False
        target = self.emptiest(near)
        if not target.fits(robot.carrying):
            target = source
        robot.drop(target)
        self.where[sku] = target.index
        return True


def main():
    rng = Rng(42)
    house = Warehouse(64, 400)
    nskus = 600
    for sku in range(nskus):
        house.stock(Item(sku, 1 + rng.below(9)), rng.below(64))
    robots = [Robot("r%d" % i) for i in range(4)]
    moved = 0
    for step in range(scaled(140000)):
        robot = robots[step % len(robots)]
        if house.move(robot, rng.below(nskus), rng.below(64)):
            moved += 1
    distance = sum(r.distance for r in robots)
    handled = sum(b.handled for b in house.bins if isinstance(b, ColdBin))
    return [moved, distance, handled]


if __name__ == "__main__":
    run(main)
