# functiontrace's bootstrap of child processes (see functiontrace/_process.py).
#
# `python -m functiontrace.record` puts this file's directory first on PYTHONPATH, so every
# Python process of the run imports this module at start-up, however it was started. It
#   1. takes its directory back out of sys.path (the program sees the sys.path it would
#      have had),
#   2. if FUNCTIONTRACE_RUN_DIR is set and the recorder's extension is built for this
#      interpreter, starts recording (functiontrace._process.bootstrap), silently: nothing
#      that goes wrong here may change what the program does,
#   3. runs the sitecustomize module that this one shadows, if there is one, as the
#      interpreter would have (its errors are reported by site as usual); if there is none,
#      it ends with the ImportError site expects then, so that no sitecustomize is left in
#      sys.modules.
#
# Any interpreter may import this file (python2 included, through a `#!/usr/bin/env python`
# script): keep it valid Python 2 and 3, and tracing to 3.8+.
import sys


def _functiontrace_bootstrap():
    import os

    here = os.path.dirname(os.path.abspath(__file__))

    sys.path[:] = [p for p in sys.path if _norm(p) != _norm(here)]

    if os.environ.get("FUNCTIONTRACE_RUN_DIR") and sys.version_info >= (3, 8):
        try:
            _start(os.path.dirname(here))
        except BaseException:
            pass
    _chain()


def _norm(path):
    import os
    try:
        return os.path.normcase(os.path.realpath(path or os.curdir))
    except Exception:
        return path


def _start(pkgdir):
    """Import functiontrace from pkgdir (the package around this directory, whatever
    sys.path says) and start recording, if the extension is built for this interpreter."""
    import os
    import _imp

    if not any(os.path.exists(os.path.join(pkgdir, "_functiontrace" + suffix))
               for suffix in _imp.extension_suffixes()):
        return
    # Our own modules' bytecode is cached even under PYTHONDONTWRITEBYTECODE: compiling
    # them would be most of a child's start-up, in every child. Only our package's
    # __pycache__ is written (if it can be); nothing the program imports.
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        if "functiontrace" not in sys.modules:
            bootstrap = sys.modules["_frozen_importlib"]
            external = sys.modules["_frozen_importlib_external"]
            spec = external.PathFinder.find_spec("functiontrace", [os.path.dirname(pkgdir)])
            if spec is None:
                return
            module = bootstrap.module_from_spec(spec)
            sys.modules["functiontrace"] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules["functiontrace"]
                raise
        from functiontrace import _process
    finally:
        sys.dont_write_bytecode = dont_write
    _process.bootstrap()


def _chain():
    """Run the next sitecustomize on sys.path (ours is out of it now) in our place."""
    if sys.version_info >= (3, 4):
        external = sys.modules.get("_frozen_importlib_external")
        bootstrap = sys.modules.get("_frozen_importlib")
        if external is None or bootstrap is None:
            return
        spec = external.PathFinder.find_spec("sitecustomize")
        if spec is None or spec.loader is None or _norm(spec.origin) == _norm(__file__):
            _none()
        module = bootstrap.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)
    else:
        import imp
        try:
            found = imp.find_module("sitecustomize")
        except ImportError:
            _none()
        if _norm(found[1]) == _norm(__file__):
            if found[0] is not None:
                found[0].close()
            _none()
        try:
            sys.modules["sitecustomize"] = imp.load_module("sitecustomize", *found)
        finally:
            if found[0] is not None:
                found[0].close()


def _none():
    """There is no other sitecustomize: leave none in sys.modules either, as without us.
    site ignores an ImportError about sitecustomize itself; importlib removes the module."""
    if sys.version_info >= (3, 3):
        raise ImportError("No module named 'sitecustomize'", name="sitecustomize")
    raise ImportError("No module named sitecustomize")


_functiontrace_bootstrap()
