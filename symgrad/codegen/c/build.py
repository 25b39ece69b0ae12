"""Building and loading C modules: the system compiler, a private cache.

Contract: `load(compute, binding, name)` returns the extension module built
from the two sources, compiled once per content: the shared library is
cached under `cache_dir()` (`$XDG_CACHE_HOME/symgrad` or `~/.cache/symgrad`,
mode 0700, owned by the user; a directory others can write, or a library
someone else owns, is refused) and written atomically (compiled in a
private temporary directory, then renamed into place). A cached library is
loaded without looking for a compiler. The compiler is `$CC` (split like a
command line, run without a shell), else the first of cc, gcc, clang on the
PATH, with flags that keep IEEE semantics (`FLAGS`: no fast math, no
contraction into fused multiply-adds), and `-march=native` where the
compiler takes it (the CPU is part of the cache key). No compiler, no
Python headers, or a compile error: a `SymgradError` saying what to do (a
compile error shows the compiler's message and the generated line it points
at).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading

from symgrad.errors import SymgradError

FLAGS = (
    "-std=c99",
    "-O3",
    "-fno-fast-math",
    "-ffp-contract=off",
    "-fPIC",
    "-shared",
)
# The machine's own vector instructions, where the compiler knows the flag:
# with contraction off and no fast math they change no result, only speed.
# The CPU is part of the cache key, so a cache shared by other machines
# never hands them a library for instructions they lack.
NATIVE = ("-march=native",)
_NATIVE_OK: dict = {}
_LOADED: dict = {}
# One build at a time in a process (threads compiling the same module).
_LOCK = threading.Lock()


def cache_dir() -> str:
    """The private cache directory (created 0700; refused if others can write
    it or it belongs to someone else)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    path = os.path.join(base, "symgrad")
    os.makedirs(path, mode=0o700, exist_ok=True)
    _check_private(path, "directory")
    return path


def _check_private(path: str, what: str) -> None:
    info = os.stat(path, follow_symlinks=False)
    if what == "directory" and not stat.S_ISDIR(info.st_mode):
        raise SymgradError(f"the symgrad cache {path} is not a directory")
    if what == "library" and not stat.S_ISREG(info.st_mode):
        raise SymgradError(f"the cached library {path} is not a regular file")
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise SymgradError(
            f"the symgrad cache {what} {path} is owned by another user or writable "
            f"by others; symgrad never loads code from it. Remove it, or set "
            f"XDG_CACHE_HOME to a private directory"
        )


def compiler() -> list:
    """The compiler command: $CC (as a command line), else cc, gcc or clang."""
    cc = os.environ.get("CC")
    if cc:
        words = shlex.split(cc)
        if not words or shutil.which(words[0]) is None:
            raise SymgradError(
                f"the C compiler {cc!r} (from the CC environment variable) was not "
                "found; install a C compiler (gcc or clang, e.g. `apt-get install "
                'gcc`), point CC at it, or compile with target="numpy"'
            )
        return [shutil.which(words[0]), *words[1:]]
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    raise SymgradError(
        "the C target needs a C compiler and none was found (tried $CC, cc, gcc, "
        "clang); install one (e.g. `apt-get install gcc` or `xcode-select "
        '--install`), or compile with target="numpy"'
    )


def _include() -> str:
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        raise SymgradError(
            f"the C target needs Python's C headers (Python.h, not found in "
            f"{include}); install them (e.g. `apt-get install python3-dev`), or "
            'compile with target="numpy"'
        )
    return include


def cpu() -> str:
    """What identifies this machine's instruction set: the CPU model and
    feature flags (Linux), else the platform's processor name. Read once
    per process."""
    if not _CPU:
        _CPU.append(_read_cpu())
    return _CPU[0]


_CPU: list = []


def _read_cpu() -> str:
    found = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                name = name.strip()
                if name in ("model name", "flags", "Features", "CPU part"):
                    found.setdefault(name, value.strip())
    except OSError:
        pass
    return " | ".join(f"{k}: {v}" for k, v in sorted(found.items())) or (
        f"{platform.machine()} {platform.processor()}"
    )


def native_flags(command) -> tuple:
    """`NATIVE` if the compiler accepts it (asked once per compiler and
    process, by compiling an empty unit), else ()."""
    name = " ".join(command)
    if name not in _NATIVE_OK:
        try:
            done = subprocess.run(
                [*command, *NATIVE, "-x", "c", "-c", "-", "-o", os.devnull],
                input="int sg_probe;\n",
                capture_output=True,
                text=True,
                check=False,
            )
            _NATIVE_OK[name] = done.returncode == 0
        except OSError:
            _NATIVE_OK[name] = False
    return NATIVE if _NATIVE_OK[name] else ()


def key(compute: str, binding: str) -> str:
    """The content hash naming a library: sources, flags, the CPU and the
    Python ABI."""
    digest = hashlib.sha256()
    abi = sysconfig.get_config_var("EXT_SUFFIX") or ""
    flags = " ".join(FLAGS + NATIVE)
    for part in (compute, binding, flags, cpu(), abi, sys.version):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:32]


def library_path(name: str) -> str:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return os.path.join(cache_dir(), name + suffix)


def build(compute: str, binding: str, name: str) -> str:
    """The path of the library for these sources, compiling it if not cached."""
    path = library_path(name)
    if os.path.exists(path):
        _check_private(path, "library")
        return path
    command = compiler()
    include = _include()
    work = tempfile.mkdtemp(prefix="build-", dir=os.path.dirname(path))
    try:
        files = []
        for base, text in (("compute.c", compute), ("binding.c", binding)):
            files.append(os.path.join(work, base))
            with open(files[-1], "w", encoding="utf-8") as fh:
                fh.write(text)
        out = os.path.join(work, "module.so")
        flags = (*FLAGS, *native_flags(command))
        argv = [*command, *flags, f"-I{include}", *files, "-o", out, "-lm"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise SymgradError(
                f"the C compiler {command[0]} could not run ({exc}); install a C "
                "compiler or point CC at one"
            ) from None
        if done.returncode != 0:
            raise SymgradError(_compile_error(done.stderr, compute, binding))
        os.chmod(out, 0o700)
        os.replace(out, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def _compile_error(message: str, compute: str, binding: str) -> str:
    text = f"the C compiler failed on the generated code:\n{message.strip()[:4000]}"
    match = re.search(r"(compute|binding)\.c:(\d+)", message)
    if match:
        source = compute if match.group(1) == "compute" else binding
        lines = source.splitlines()
        number = int(match.group(2))
        if 0 < number <= len(lines):
            text += f"\ngenerated line {number}: {lines[number - 1].strip()}"
    return text


def load(compute: str, binding_of) -> object:
    """The extension module for `compute` (its binding: `binding_of(name)`)."""
    name = "symgrad_c_" + key(compute, binding_of("symgrad_c_"))
    with _LOCK:
        module = _LOADED.get(name)
        if module is not None:
            return module
        binding = binding_of(name)
        path = build(compute, binding, name)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED[name] = module
        return module
