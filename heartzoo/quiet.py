"""Quiet by default: what TensorFlow, the TFLite converter and Python warnings print says nothing a user
can act on, so it is held back unless they ask for it (`heartzoo --verbose`, or `$HEARTZOO_VERBOSE=1`).

- TensorFlow's C++ start-up lines (oneDNN, CUDA probing, "All log messages before absl::InitializeLog()")
  are written to the C stderr while `import tensorflow` runs, before any log level applies: `configure`
  installs an import hook that points file descriptor 2 elsewhere during that import only, and sets
  `TF_CPP_MIN_LOG_LEVEL` for what TensorFlow logs later (`failed call to cuInit`);
- `silenced()` holds back everything written to file descriptors 1 and 2 and to `sys.stdout`/`sys.stderr`,
  and every warning, around a noisy call (the TFLite converter prints a `TensorSpec(...)` line per
  captured variable and four warnings).

Only the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

#: Set to 1 to let everything through (the CLI's --verbose sets it).
VERBOSE_ENV = "HEARTZOO_VERBOSE"


def is_verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _flush_c_stdio() -> None:
    """Flush C stdio buffers, so what C code wrote lands where its descriptor pointed at the time."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no libc to load (not POSIX): nothing buffered there to lose
        pass


@contextlib.contextmanager
def _descriptors_to(fds: tuple[int, ...], sink) -> Iterator[None]:
    """Points the descriptors `fds` at the file `sink` inside the block and restores them after."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    _flush_c_stdio()
    saved = []
    try:
        for fd in fds:
            saved.append((fd, os.dup(fd)))
            os.dup2(sink.fileno(), fd)
        yield
    finally:
        _flush_c_stdio()
        for fd, copy in reversed(saved):
            os.dup2(copy, fd)
            os.close(copy)


def _fd_backed(stream, fd: int) -> bool:
    try:
        return stream.fileno() == fd
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def silenced(*, fds: tuple[int, ...] = (1, 2), python: bool = True) -> Iterator[None]:
    """Holds back what is printed inside the block (C and Python, stdout and stderr) and its warnings,
    unless verbose. On an exception, what was held back rides on it as a note (a traceback shows it).
    `python=False` leaves `sys.stdout`/`sys.stderr` as they are and holds back only what is written to
    the descriptors `fds`."""
    if is_verbose():
        yield
        return
    buffer = io.StringIO()
    with tempfile.TemporaryFile() as sink:
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(warnings.catch_warnings())
                warnings.simplefilter("ignore")
                stack.enter_context(_descriptors_to(fds, sink))
                if python:
                    stack.enter_context(contextlib.redirect_stdout(buffer))
                    stack.enter_context(contextlib.redirect_stderr(buffer))
                yield
        except BaseException as exc:
            sink.seek(0)
            held = (sink.read().decode(errors="replace") + buffer.getvalue()).strip()
            if held and hasattr(exc, "add_note"):
                exc.add_note("held-back output (heartzoo --verbose shows it as it comes):\n" + held[-4000:])
            raise


@contextlib.contextmanager
def _c_stderr_held() -> Iterator[None]:
    """Holds back the C stderr only, while Python's sys.stderr (a progress display, say) still reaches the
    terminal through a copy of the original descriptor."""
    real = _fd_backed(sys.stderr, 2)
    copy = os.dup(2) if real else None
    saved_stream = sys.stderr
    try:
        if copy is not None:
            sys.stderr = open(copy, "w", buffering=1, encoding=saved_stream.encoding, closefd=False)  # noqa: SIM115
        with silenced(fds=(2,), python=False):
            yield
    finally:
        if copy is not None:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            sys.stderr = saved_stream
            os.close(copy)


class _QuietImport:
    """A `sys.meta_path` finder that runs the first import of a noisy package with its C stderr held back
    and then quiets its Python loggers. It finds nothing itself: the other finders do."""

    NOISY = ("tensorflow",)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.NOISY:
            return None
        import importlib.util

        uninstall()  # the real finders locate it; this one has done its job once it is wrapped
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec(module) -> None:
            with _c_stderr_held():
                exec_module(module)
            _quiet_python_loggers()

        spec.loader.exec_module = quiet_exec  # type: ignore[method-assign]
        return spec


def _quiet_python_loggers() -> None:
    import logging

    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietImport)]


def configure(verbose: bool) -> None:
    """For one CLI run: verbose lets everything through; otherwise TensorFlow's start-up and log lines
    and Python warnings are held back (call it before TensorFlow is imported; `scope` undoes it). A
    recording's warnings never come twice: the CLI prints them itself (`errors.RecordingWarning`)."""
    from .errors import RecordingWarning

    warnings.filterwarnings("ignore", category=RecordingWarning)
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
        return
    if is_verbose():  # $HEARTZOO_VERBOSE=1 asks for everything, as --verbose does
        return
    # 3: errors too. What TensorFlow logs as an error at start-up on a machine without a GPU
    # ("failed call to cuInit") is not one for a user; a real failure raises.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.simplefilter("ignore")
    if "tensorflow" in sys.modules:
        _quiet_python_loggers()
    elif not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Undoes `configure` at the end of a CLI run (the tests run the CLI inside their own process)."""
    try:
        with warnings.catch_warnings():
            yield
    finally:
        uninstall()
