"""The `heartzoo` command: parses arguments, calls the library, prints with rich.

Only typer and rich are imported at start-up; everything heavy is imported inside the commands, so
`heartzoo --help` answers at once. One module per group of commands; `common` holds what they share.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape

from ..errors import HeartzooError
from . import data, evaluate, train, zoo  # noqa: F401  (registers the commands)
from .common import app, err_console

__all__ = ["app", "main"]


def main() -> None:
    """Run the app; a user's mistake ends in one `error:` line and exit code 2, never a traceback."""
    from typer._click import exceptions as click_exc  # typer vendors click: its usage errors live here

    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) says nothing a user can act on
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        code = app(standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(2)
    except click_exc.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        _error(f"{where}{exc.format_message()} (see --help)")
    except click_exc.ClickException as exc:
        _error(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    except HeartzooError as exc:
        _error(str(exc))
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    # soft_wrap: a message is one line, so a long path never breaks across lines
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)
