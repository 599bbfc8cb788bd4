"""The `heartzoo` command: parses arguments, calls the library, prints with rich.

Only typer and rich are imported at start-up; everything heavy is imported inside the commands, so
`heartzoo --help` answers at once. One module per group of commands; `common` holds what they share.
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Annotated

import typer
from rich.markup import escape

from .. import quiet
from ..errors import HeartzooError
from . import annotate, data, evaluate, train, tune, zoo  # noqa: F401  (registers the commands)
from .common import app, console, err_console

__all__ = ["app", "main"]


def _whole_summaries(group: typer.Typer) -> None:
    """A command's summary in a list of commands is the first paragraph of its docstring, whole: click
    would cut it at 45 characters, mid-sentence (`typer utils docs`, the site's CLI reference)."""
    for info in group.registered_commands:
        if info.short_help is None and info.callback is not None and info.callback.__doc__:
            first = inspect.cleandoc(info.callback.__doc__).split("\n\n")[0]
            info.short_help = " ".join(first.split())
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            info = sub.typer_instance.info
            if isinstance(info.help, str) and not isinstance(info.short_help, str):
                info.short_help = " ".join(inspect.cleandoc(info.help).split("\n\n")[0].split())
            _whole_summaries(sub.typer_instance)


_whole_summaries(app)


def _print_version(value: bool) -> None:
    if value:
        from ..version import __version__

        console.print(f"heartzoo {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _global_options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Let TensorFlow's log lines, the TFLite converter's output and Python warnings through "
            f"(also: ${quiet.VERBOSE_ENV}=1)",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit"),
    ] = False,
) -> None:
    # runs before the command, so before any command imports TensorFlow
    quiet.configure(verbose)


def main() -> None:
    """Run the app; a user's mistake ends in one `error:` line and exit code 2, never a traceback.
    Quiet unless --verbose: TensorFlow's C++ start-up lines, the converter's output and Python warnings
    are held back (`heartzoo.quiet`)."""
    from typer._click import exceptions as click_exc  # typer vendors click: its usage errors live here

    try:
        with quiet.scope():
            code = app(standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(2)
    except click_exc.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        message = exc.format_message()
        if re.search(r"No such option: (--verbose|-v|--version)\b", message):
            message += "; it goes before the command: heartzoo --verbose COMMAND ..."
        _error(f"{where}{message} (see --help)")
    except click_exc.ClickException as exc:
        _error(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    except HeartzooError as exc:
        _error(str(exc))
    if code == 130:  # Ctrl-C, which typer turns into this exit status before the handler above sees it
        err_console.print("interrupted")
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    # soft_wrap: a message is one line, so a long path never breaks across lines
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)
