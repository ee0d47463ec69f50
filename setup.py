"""pip install . — builds the recorder's C extension for the installing interpreter and
the ft-convert program, both with the Makefile (same flags as `make`), and installs
ft-convert on PATH (a launcher that runs functiontrace/bin/ft-convert).

Offline: setuptools and wheel come from the installing interpreter (Debian: python3-setuptools,
python3-wheel), so there is deliberately no pyproject.toml, whose build isolation would fetch
them from PyPI. With a pip that isolates anyway: pip install --no-build-isolation ."""

import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def _version():
    ns = {}
    with open(os.path.join(ROOT, "python", "functiontrace", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                exec(line, ns)
    return ns["__version__"]


def _sources(*dirs):
    return sorted(os.path.join(d, f) for d in dirs for f in os.listdir(os.path.join(ROOT, d))
                  if f.endswith(".c"))


class MakeBuildExt(build_ext):
    """Each extension is built by `make`: the recorder for sys.executable straight to its
    place in the wheel, and ft-convert (with its objects in build_temp, so that the source
    tree's build/ stays as it is) into the package's bin/."""

    def build_extension(self, ext):
        out = os.path.abspath(self.get_ext_fullpath(ext.name))
        build = os.path.abspath(os.path.join(self.build_temp, "make"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        make = [os.environ.get("MAKE", "make"), "-C", ROOT, "--no-print-directory",
                "PYTHON=" + sys.executable, "BUILD=" + build]
        subprocess.check_call(make + ["ext", "EXT=" + out])
        subprocess.check_call(make + ["convert"])
        bindir = os.path.join(os.path.dirname(out), "bin")
        os.makedirs(bindir, exist_ok=True)
        shutil.copy2(os.path.join(build, "ft-convert"), os.path.join(bindir, "ft-convert"))


setup(
    name="functiontrace",
    version=_version(),
    description="A tracing profiler for Python: every call, every thread, every process",
    python_requires=">=3.8",
    package_dir={"": "python"},
    packages=["functiontrace"],
    package_data={"functiontrace": ["_bootstrap/sitecustomize.py"]},
    ext_modules=[Extension("functiontrace._functiontrace",
                           sources=_sources("record", "format"))],
    cmdclass={"build_ext": MakeBuildExt},
    entry_points={"console_scripts": ["ft-convert = functiontrace.convert:main"]},
    zip_safe=False,
)
