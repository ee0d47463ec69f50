"""A program that profiles part of itself with cProfile (sys.monitoring's PROFILER_ID on
3.12+, the profile hook of its thread before)."""
import cProfile
import io
import pstats


def work():
    return sum(i * i for i in range(1000))


def after():
    return 1


def main():
    prof = cProfile.Profile()
    prof.enable()
    work()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).print_stats("work")
    print("cProfile saw work:", "(work)" in out.getvalue())
    after()


main()
