"""Where fastnn's compiled Numba code is cached: a folder keyed to the code itself.

Numba's own cache (``cache=True``) keeps a compiled function until *its own* source file
changes. A kernel that calls a function in another file (every kernel calls ``_fastmath``) keeps
its old machine code when only that other file is edited: a stale entry once kept an old float32
tanh, and once crashed the fused fit. And where no cache folder is writable (a read-only
site-packages and HOME, a locked-down container), ``cache=True`` fails at import with
"cannot cache function … no locator available".

So every ``@njit`` of fastnn takes ``cache=CACHE`` and this module registers a cache locator
for fastnn's files only (Numba's other functions, the user's among them, are cached as before):

- The folder's name carries fastnn's version and :func:`source_key`, a SHA-256 over every
  ``.py`` file of the installed package (the kernels read constants from ``activations.py``
  too, so a kernel's code is the whole package's). An edit anywhere gives a new folder: no
  entry compiled from other sources can be found, let alone run.
- The folder is the first writable one of: ``NUMBA_CACHE_DIR`` when the user set it, then the
  package's own ``__pycache__`` (where Numba would put it), then the user's cache folder
  (``$XDG_CACHE_HOME`` or ``~/.cache``, under ``fastnn/``).
- None writable: :data:`CACHE` is False, the kernels are compiled in memory on first use in
  each process, and one ``RuntimeWarning`` says so.

Old folders are not removed (a few MB each); delete ``fastnn/__pycache__/numba-*`` or
``~/.cache/fastnn`` to reclaim them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import numba
from numba.core import caching, config

from . import _simd  # noqa: F401  (the vector width, before Numba's compiler starts)

#: The installed package's folder: the files whose functions this locator caches.
PACKAGE = Path(__file__).resolve().parent


def source_key(root=PACKAGE):
    """The first 16 hex digits of a SHA-256 over Numba's version and every ``.py`` file under
    ``root`` (the package: path and bytes, in sorted order)."""
    root = Path(root)
    h = hashlib.sha256(numba.__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _version():
    try:
        from importlib.metadata import version
        return version("fastnn")
    except Exception:  # not installed (run from a source tree): the key still names the code
        return "src"


def candidates():
    """The folders tried, in order (see the module note)."""
    name = f"numba-{_version()}-{KEY}"
    out = []
    if config.CACHE_DIR:
        out.append(Path(config.CACHE_DIR) / f"fastnn-{name}")
    out.append(PACKAGE / "__pycache__" / name)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    out.append(Path(base) / "fastnn" / name)
    return out


def _writable(path):
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def find_folder():
    """The first writable folder of :func:`candidates`, or None. A ``NUMBA_CACHE_DIR`` that
    cannot be written is said in a warning (the user chose it), not passed over in silence."""
    found = next((p for p in candidates() if _writable(p)), None)
    if config.CACHE_DIR and (found is None or found.parent != Path(config.CACHE_DIR)):
        warnings.warn(f"fastnn: NUMBA_CACHE_DIR={config.CACHE_DIR} is not writable; fastnn's "
                      f"compiled code is cached in {found} instead" if found else
                      f"fastnn: NUMBA_CACHE_DIR={config.CACHE_DIR} is not writable",
                      RuntimeWarning, stacklevel=3)
    return found


class _Locator(caching._CacheLocator):
    """Numba's cache locator for the functions defined in fastnn's own files: one folder per
    version and source key."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file  # Numba's messages name it
        self._lineno = py_func.__code__.co_firstlineno
        # one flat folder (checked writable at import); the file's place in the package goes
        # into the entry's name instead: backends/_fastmath.py -> "backends.<line>"
        sub = Path(py_file).resolve().parent.relative_to(PACKAGE).as_posix()
        self._where = "" if sub == "." else sub.replace("/", ".") + "."

    def get_cache_path(self):
        return str(FOLDER)

    def get_source_stamp(self):
        return KEY  # the folder is already keyed by it; Numba compares it too

    def get_disambiguator(self):
        return f"{self._where}{self._lineno}"

    @classmethod
    def from_function(cls, py_func, py_file):
        if FOLDER is None or not os.path.exists(py_file):
            return None
        try:
            Path(py_file).resolve().relative_to(PACKAGE)
        except ValueError:
            return None  # not fastnn's: Numba's own locators decide
        return cls(py_func, py_file)  # FOLDER was found writable at import


#: This process's :func:`source_key` of the installed package.
KEY = source_key()
#: The cache folder of this process's kernels, or None when nothing is writable.
FOLDER = find_folder()
#: What every ``@njit`` of fastnn passes as ``cache=``.
CACHE = FOLDER is not None

if CACHE:
    if _Locator not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes.insert(0, _Locator)
else:
    warnings.warn("fastnn: no writable folder for Numba's cache (tried "
                  + ", ".join(str(p) for p in candidates())
                  + "); compiled code is not cached: each process compiles on first use",
                  RuntimeWarning, stacklevel=2)
