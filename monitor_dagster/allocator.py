"""polars' memory allocator, set for a pipeline that frees and allocates large buffers bucket after bucket.

polars allocates with jemalloc and, on import, tells it to give freed memory back to the operating system
after half a second (``dirty_decay_ms:500,muzzy_decay_ms:1000`` in polars/__init__.py; polars issue 18088),
while jemalloc sends every buffer over 8 MiB to an arena that gives it back at once (``oversize_threshold``).
A bucket's columns are such buffers: the next bucket asks for the same sizes a few seconds later and the
kernel has to hand out and zero every page again.  On the 2-core EPYC a fifth of the core layer's CPU was
page faults (4 M persons: 6.1-6.5 M faults, 28-33 s of 135-153 CPU-s).  Keeping freed memory ten seconds
and without the oversize arena: 2.5 M faults, 11-13 s of system time, the core layer 83-90 s -> 61-70 s and
the indicator layer 63-74 s -> 57-61 s; at 17.5 M persons the core layer 308 -> 241 s, for 1-1.4 GB more peak
memory (docs/scaling_measurements.md, "The allocator").  Memory stays bounded: jemalloc still returns what has not been
reused within ten seconds.

jemalloc reads its options when polars' library loads, so :func:`configure` must run before ``import
polars``; ``monitor_dagster/__init__.py`` calls it first thing.  A process that imported polars before
monitor_dagster keeps polars' own settings (nothing breaks, it is only slower).  The user's own
``_RJEM_MALLOC_CONF`` comes after these options, so any key set there wins (e.g.
``_RJEM_MALLOC_CONF=dirty_decay_ms:500,muzzy_decay_ms:1000,oversize_threshold:8388608`` restores polars'
behaviour).

:func:`release` (``MONITOR_RELEASE_MEMORY=1``, off by default) hands what a step freed back to the operating
system when its asset is written: a lower peak for more page faults in the next step.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys

#: options for polars' jemalloc (read through the environment variable polars itself passes on)
JEMALLOC_OPTIONS = "dirty_decay_ms:10000,muzzy_decay_ms:10000,oversize_threshold:0"
ENV = "_RJEM_MALLOC_CONF"


def configure(environ: dict | None = None) -> bool:
    """Put :data:`JEMALLOC_OPTIONS` before the user's own ``_RJEM_MALLOC_CONF``; returns whether they will
    apply (False when polars is already imported: jemalloc has read its options by then).  Idempotent: a
    worker process that inherits the variable does not get the options twice."""
    env = os.environ if environ is None else environ
    current = env.get(ENV, "")
    if JEMALLOC_OPTIONS not in current:
        env[ENV] = JEMALLOC_OPTIONS + ("," + current if current else "")
    return "polars" not in sys.modules


# ------------------------------------------------------------------------------ memory back between steps
#: set to 1 to return freed memory after every derived asset is written (:func:`release`); off by default
RELEASE_ENV = "MONITOR_RELEASE_MEMORY"
#: jemalloc's name for "every arena" in ``arena.<i>.purge`` (MALLCTL_ARENAS_ALL)
_ARENAS_ALL = 4096
_UNSET = object()
_mallctl = _UNSET


def _elf_symbols(path: str, names: tuple[str, ...]) -> dict[str, int]:
    """The values (addresses relative to the load base) of ``names`` in the symbol table of the 64-bit
    little-endian ELF file ``path``; a name that is not there is left out.  Read through ``mmap``: the
    symbol table of polars' library is tens of MB, read in about 0.1 s."""
    found: dict[str, int] = {}
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if m[:4] != b"\x7fELF" or m[4] != 2 or m[5] != 1:       # 64-bit, little-endian
            return found
        shoff, = struct.unpack_from("<Q", m, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", m, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", m, shoff + i * shentsize) for i in range(shnum)]
        for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
            if kind != 2 or not entsize:                        # SHT_SYMTAB
                continue
            str_offset, str_size = sections[link][4], sections[link][5]
            wanted = {}
            for n in names:
                i = m.find(b"\0" + n.encode() + b"\0", str_offset, str_offset + str_size)
                if i >= 0:
                    wanted[i + 1 - str_offset] = n
            for at in range(offset, offset + size, entsize):
                st_name, = struct.unpack_from("<I", m, at)
                if st_name in wanted:
                    found[wanted[st_name]] = struct.unpack_from("<Q", m, at + 8)[0]
    return found


def _find_mallctl():
    """jemalloc's ``mallctl`` inside polars' library, or None.  polars links jemalloc statically and does not
    export it, so the address comes from the library's symbol table plus its load base; trusted only when
    the same arithmetic gives the address the dynamic loader reports for an exported symbol and the function
    then answers ``opt.dirty_decay_ms`` as jemalloc does.  Any other build of polars (stripped, another
    allocator, another platform) gives None and :func:`release` does nothing."""
    import ctypes

    # the library polars loaded (polars._plr is its extension module, whichever runtime package holds it)
    path = getattr(sys.modules.get("polars._plr"), "__file__", None)
    if sys.platform != "linux" or not path or not path.endswith(".so"):
        return None
    exported = "PyInit__polars_runtime"
    syms = _elf_symbols(path, ("_rjem_mallctl", exported))
    if set(syms) != {"_rjem_mallctl", exported}:
        return None

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    lib = ctypes.CDLL(path)               # already loaded by polars: the same handle, nothing loads twice
    addr = ctypes.cast(getattr(lib, exported), ctypes.c_void_p).value
    info = DlInfo()
    if not ctypes.CDLL(None).dladdr(ctypes.c_void_p(addr), ctypes.byref(info)) or not info.dli_fbase:
        return None
    if info.dli_fbase + syms[exported] != addr:
        return None
    proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_size_t)
    fn = proto(info.dli_fbase + syms["_rjem_mallctl"])
    value, size = ctypes.c_ssize_t(), ctypes.c_size_t(ctypes.sizeof(ctypes.c_ssize_t))
    if fn(b"opt.dirty_decay_ms", ctypes.byref(value), ctypes.byref(size), None, 0) != 0:
        return None
    return fn


def release() -> bool:
    """With ``MONITOR_RELEASE_MEMORY=1``: give the memory polars has freed back to the operating system now
    (jemalloc ``arena.<all>.purge``); returns whether it did.  Called after every derived asset is written
    (defs/io.py).  The ten-second decay above keeps what a step freed for the next step too: the next step
    reuses part of it, but the rest adds to the process's peak.  Measured at 4 M persons (docs/scaling_measurements.md,
    "Memory back between steps"): the indicator layer's peak 1.82-1.88 instead of 2.12-2.40 GB, for 2.1 M more
    page faults and 10-17 % more time, so it is a lever for a machine short of memory, not the default.  A polars
    build where jemalloc's ``mallctl`` cannot be found (:func:`_find_mallctl`) makes it do nothing."""
    global _mallctl
    if os.environ.get(RELEASE_ENV, "0").strip() != "1":
        return False
    if _mallctl is _UNSET:
        try:       # a library that is not what it seems (truncated, another layout) means no release, not a failure
            _mallctl = _find_mallctl()
        except (OSError, ValueError, AttributeError, IndexError, struct.error):
            _mallctl = None
    if _mallctl is None:
        return False
    return _mallctl(f"arena.{_ARENAS_ALL}.purge".encode(), None, None, None, 0) == 0
