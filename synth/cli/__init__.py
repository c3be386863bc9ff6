"""The `synth` command: a thin layer over the Python API. Each command parses options, calls it, prints.

The commands live one group per module (`draft.py`: draft and search; `check.py`; `eval.py`; `index.py`;
`corpus.py`); their options come from the settings (`options.py`); input and output helpers are in `io.py`.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from synth._version import __version__
from synth.errors import SynthError

log = logging.getLogger("synth")


class _Group(TyperGroup):
    """Turns every error into one line on stderr and exit code 1: never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SynthError as e:
            message = str(e)
        except KeyboardInterrupt:
            typer.echo("aborted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise  # the reader went away: main() leaves quietly
        except OSError as e:
            # A file the user named could not be read or written: say which, and why.
            where = f"{e.filename}: " if e.filename else ""
            message = f"{where}{e.strerror or e}".strip()
        except Exception as e:
            # The framework's own exits, usage errors and aborts pass through untouched.
            if type(e).__module__.split(".")[0] in ("click", "typer"):
                raise
            log.debug("unexpected error", exc_info=True)
            from synth.llm.secrets import scrub

            message = scrub(f"unexpected {type(e).__name__}: {e} (run with -vv for the traceback)")
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)


def sub_app(help: str) -> typer.Typer:
    """A command group with synth's error handling."""
    return typer.Typer(cls=_Group, help=help, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False, rich_markup_mode=None)  # fmt: skip


app = typer.Typer(
    cls=_Group,
    help="Write the related-work section of a paper from a corpus of abstracts, and prove what it cites.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"synth {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s: %(message)s", force=True)
    from synth.llm.secrets import ScrubbingFilter  # here: `synth --help` stays free of pydantic

    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubbingFilter())
    # litellm and HTTP clients are chatty at INFO; they speak only when asked for debug output.
    for noisy in ("LiteLLM", "litellm", "httpx", "httpcore", "openai", "filelock"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    if quiet:
        from synth.retrieve.dense import quiet_third_party

        quiet_third_party()  # before any model library is imported: they read these settings at import
    else:
        from synth.cli.io import install_progress

        install_progress()


def _register() -> None:
    from synth.cli import check, corpus, draft, eval, fetch, index

    app.command("draft")(draft.draft)
    app.command("search")(draft.search)
    app.command("check")(check.check)
    app.command("fetch")(fetch.fetch)
    app.add_typer(eval.eval_app, name="eval")
    app.add_typer(index.index_app, name="index")
    app.add_typer(corpus.corpus_app, name="corpus")


_register()


def main() -> None:
    """Entry point of the `synth` console script."""
    # pydantic scans every installed package's entry points for plugins on first use (~15 ms); the CLI
    # process has none to load. A user who relies on one can set the variable to an empty value.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    try:
        app(prog_name="synth")
    except BrokenPipeError:
        # The reader of our output went away (`synth draft ... | head`): leave quietly, as cat or grep would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(128 + 13)
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        sys.exit(128 + 13)
