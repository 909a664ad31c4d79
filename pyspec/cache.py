"""The compiled-program cache: compile each check once per model, then check many points.

A check's float64 programs (Theorem 1 and 2, the §§4–6 checks, the hypothesis checks, dense and
matrix-free) are functions of ``(a, θ)`` and of values derived from them at run time (nearby points,
probe directions, row structures), which they take as *arguments*, never as closure constants. So a
program compiled for one point serves every other point of the same model.

What keys the cache
-------------------
A program is found again when all of these are the same:

* the *identity* (``is``, not equality) of the user's callables: the model, ``T``, ``S`` (or
  ``None``) and the loss (a ``functools.partial`` of a function with hashable arguments is keyed by
  the function's identity and the arguments' values). Redefining a ``lambda``, even with the same text, makes a new function and
  hence a new program; the cache keeps a reference to every callable in its keys, so an identity is
  never reused by another object while its programs are cached;
* the tree structure, shapes and dtypes of ``θ`` and ``a``;
* the program (which check, which part) and its options (e.g. the matrix-free solver options and the
  row structure found at the point, the number of probes);
* the backend (JAX float64; the mpmath backend does not compile).

Anything else a callable reads when it is traced, e.g. a NumPy array it closes over that is later
modified *in place*, or a global variable rebound after the first check, is baked into the program,
as with ``jax.jit``: define a new callable instead. Data enter through the callables (a model or a
loss closing over its batch), so a new batch is a new callable and compiles its programs again.
:func:`clear_cache` drops every program.

The cache holds at most :data:`MAX_PROGRAMS` programs, least recently used first out, and fewer where
they would use up the process's memory maps: a compiled CPU program maps ~10–150 regions of memory
(measured: 100 on average over ``tests/test_sketch.py``), and a Linux process at the kernel's limit
(``vm.max_map_count``, 65530 by default) dies with a segmentation fault in XLA's next compilation. So
on Linux, every :data:`MAP_CHECK_EVERY` compilations the cache counts the process's maps and, above
:data:`MAP_FRACTION` of the limit, drops its least recently used half.
"""

from __future__ import annotations

import collections
import functools
import threading
import types
from typing import Any, Callable, Hashable, NamedTuple

__all__ = [
    "MAP_CHECK_EVERY", "MAP_FRACTION", "MAX_PROGRAMS", "CacheInfo", "cache_info", "callable_key", "cached",
    "clear_cache", "compile_program", "is_compiled", "program_key",
]

MAX_PROGRAMS = 512
"""Bound on the number of cached programs (a small check's CPU executable is ~0.1–1 MB)."""

MAP_FRACTION = 0.5
"""Share of the kernel's limit on memory maps above which the cache drops its older half (Linux)."""

MAP_CHECK_EVERY = 4
"""Compilations between two counts of the process's memory maps (a count reads ``/proc/self/maps``:
~0.5 ms per 1000 maps; a few programs add far less than the headroom :data:`MAP_FRACTION` leaves)."""


@functools.cache
def _map_limit() -> int | None:
    """The kernel's limit on a process's memory maps (``vm.max_map_count``); ``None`` off Linux."""
    try:
        with open("/proc/sys/vm/max_map_count", "rb") as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return None


def _maps_in_use() -> int:
    """The number of memory maps of this process (lines of ``/proc/self/maps``)."""
    with open("/proc/self/maps", "rb") as maps:
        return maps.read().count(b"\n")


class _Identity:
    """Hashes and compares by object identity, holding a strong reference (so the id is not reused)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj

    def __repr__(self) -> str:
        return f"<{getattr(self.obj, '__qualname__', type(self.obj).__name__)} at {id(self.obj):#x}>"


def callable_key(fn: Any) -> Hashable:
    """The cache key of a user callable: its identity (a bound method: its object's identity and its
    function, since ``obj.method`` makes a new bound-method object at every access; a
    ``functools.partial`` with hashable arguments: its function's key and the arguments' values)."""
    if fn is None:
        return None
    if isinstance(fn, types.MethodType):
        return (_Identity(fn.__self__), _Identity(fn.__func__))
    if isinstance(fn, functools.partial):
        bound = (fn.args, tuple(sorted(fn.keywords.items())))
        try:
            hash(bound)
        except TypeError:
            return _Identity(fn)
        return ("partial", callable_key(fn.func), bound)
    return _Identity(fn)


def program_key(base: Hashable | None, fun: Callable[..., Any], *static: Hashable) -> Hashable | None:
    """The key of the program ``fun`` of a bound problem whose key is ``base``.

    ``fun`` is named by its code object (one per definition site in pyspec, shared by every closure
    made there; for a wrapper such as a bound problem's ``T``, that of the function it wraps);
    ``static`` holds every other value ``fun`` closes over besides the problem.
    ``None`` (no caching) when ``base`` is ``None``.
    """
    if base is None:
        return None
    return (base, getattr(fun, "__wrapped__", fun).__code__, static)


def compile_program(problem: Any, fun: Callable[..., Any], *static: Hashable, pack: bool = False) -> Callable[..., Any]:
    """``fun`` compiled by ``problem.backend`` (a bound :class:`~pyspec.equivariance.Problem`), cached
    under :func:`program_key` ``(problem.key, fun, *static)``; ``static`` names every value ``fun``
    closes over besides ``problem``. ``pack``: a program run many times returns its small results in
    one host array (:func:`pyspec.backends.jax_backend.ahead_of_time`). Backends that do not compile
    (mpmath, ``jit=False``) return ``fun`` itself."""
    backend = problem.backend
    if not getattr(backend, "jit", False):
        return backend.compile(fun)
    return backend.compile(fun, key=program_key(problem.key, fun, *static), pack=pack)


def is_compiled(problem: Any, fun: Callable[..., Any], *static: Hashable) -> bool:
    """Whether :func:`compile_program` ``(problem, fun, *static)`` would find its program cached (no
    count of a hit or a miss; ``False`` for a problem that shares no programs)."""
    key = program_key(problem.key, fun, *static)
    if key is None:
        return False
    with _CACHE.lock:
        return key in _CACHE.entries


class CacheInfo(NamedTuple):
    """Counts since the last :func:`clear_cache`: ``hits``, ``misses`` (each miss traces and compiles
    one program), the number of cached programs ``size``, the bound ``max_size``, and ``map_evictions``,
    the times the older half was dropped to keep the process's memory maps in budget."""

    hits: int
    misses: int
    size: int
    max_size: int
    map_evictions: int = 0


class _ProgramCache:
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.entries: collections.OrderedDict[Hashable, Callable[..., Any]] = collections.OrderedDict()
        self.hits = self.misses = self.evictions = 0
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        with self.lock:
            program = self.entries.get(key)
            if program is not None:
                self.entries.move_to_end(key)
                self.hits += 1
                return program
            self.misses += 1
        program = make()
        with self.lock:
            self.entries[key] = program
            while len(self.entries) > self.max_size:
                self.entries.popitem(last=False)
            if self.misses % MAP_CHECK_EVERY == 0:
                self._keep_maps_in_budget()
        return program

    def _keep_maps_in_budget(self) -> None:
        """Drop the least recently used half of the programs while the process's maps exceed
        :data:`MAP_FRACTION` of the kernel's limit (the newest program always stays)."""
        limit = _map_limit()
        if limit is None:
            return
        while len(self.entries) > 1 and _maps_in_use() > MAP_FRACTION * limit:
            for _ in range(len(self.entries) // 2):
                self.entries.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.hits = self.misses = self.evictions = 0


_CACHE = _ProgramCache(MAX_PROGRAMS)


def cached(key: Hashable | None, make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """The program cached under ``key``, made by ``make()`` on a miss (``key=None``: always made)."""
    return make() if key is None else _CACHE.get(key, make)


def clear_cache() -> None:
    """Drop every compiled program (and reset :func:`cache_info`'s counts)."""
    _CACHE.clear()


def cache_info() -> CacheInfo:
    """Hits, misses and size of the compiled-program cache."""
    with _CACHE.lock:
        return CacheInfo(_CACHE.hits, _CACHE.misses, len(_CACHE.entries), _CACHE.max_size, _CACHE.evictions)
