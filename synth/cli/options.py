"""Command-line options generated from the settings: one pydantic field is one flag, with its help and default.

A command declares the settings groups it takes (`@with_settings("retrieval", "llm")`) and receives a
`settings: Settings` built from its flags, SYNTH_* variables and the config file. Commands cannot drift
apart: `draft`, `search`, `check` and `eval run` get the same flag for the same setting.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import typer
from pydantic.fields import FieldInfo

from synth.settings import GROUPS, TOP_LEVEL

# Extra spellings kept from earlier versions and the usual short flags.
ALIASES: dict[str, list[str]] = {"k": ["-k"], "model": ["-m"], "corpus": ["-c"], "judge_trials": ["--trials"]}
# Boolean settings whose negative flag reads better than --no-<name>.
NEGATIVES: dict[str, str] = {"strict": "--lenient"}
PANELS = {None: "Corpus", "retrieval": "Retrieval", "llm": "Model", "draft": "Drafting", "check": "Checking"}


def _choices(name: str) -> list[str] | None:
    """Names a registry-backed setting accepts, for the help and for validation."""
    if name == "retriever":
        from synth.retrieve import RETRIEVERS

        return ["auto", *RETRIEVERS]
    if name == "pipeline":
        from synth.draft import PIPELINES

        return list(PIPELINES)
    if name == "judge":
        from synth.check import JUDGES

        return list(JUDGES)
    return None


def _option(name: str, field: FieldInfo, group: str | None) -> inspect.Parameter:
    """The typer parameter for one settings field (default None: a flag not given leaves the setting alone)."""
    annotation = field.annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    base = args[0] if get_origin(annotation) is not None and len(args) == 1 else annotation
    flag = "--" + name.replace("_", "-")
    default = field.get_default(call_default_factory=False)
    shown = (
        ""
        if default is None or name == "home"
        else f" [default: {str(default).lower() if isinstance(default, bool) else default}]"
    )
    if base is bool:
        flags = [f"{flag}/{NEGATIVES.get(name, '--no-' + name.replace('_', '-'))}"]
        kind: Any = bool | None
    else:
        flags = [flag, *ALIASES.get(name, [])]
        choices = list(get_args(base)) if get_origin(base) is Literal else _choices(name)
        if choices:
            # typer validates and lists choices for an Enum; the wrapper hands the setting its value.
            choice: Any = enum.Enum(name.title().replace("_", ""), {c: c for c in choices})  # type: ignore[misc]
            kind = choice | None
        elif base in (int, float, str, Path):
            kind = base | None
        else:
            kind = str | None
    option = typer.Option(
        *flags,
        help=f"{field.description}{shown}",
        show_default=False,
        rich_help_panel=PANELS[group],
    )
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind, option])


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML config file.", rich_help_panel="Corpus")]


def with_settings(*groups: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the flags of the top-level settings and of `groups`, and pass it `settings=`."""
    fields: dict[str, tuple[FieldInfo, str | None]] = {name: (f, None) for name, f in TOP_LEVEL.items()}
    for group in groups:
        fields |= {name: (f, group) for name, f in GROUPS[group].model_fields.items()}

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command)
        hints = get_type_hints(command, include_extras=True)  # the command's own Annotated options, resolved
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name not in ("settings", "given")
        ]
        wants_given = "given" in signature.parameters
        generated = [_option(name, f, group) for name, (f, group) in fields.items()]
        config = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigOption)

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            from synth.settings import Settings

            given = {name: _plain(kwargs.pop(name)) for name in fields}
            settings = Settings.load(kwargs.pop("config"), **given)
            if wants_given:  # the flags the user typed, for "this flag does nothing here" notices
                kwargs["given"] = {name for name, value in given.items() if value is not None}
            return command(settings=settings, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*own, *generated, config])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in own}
        wrapper.settings_fields = set(fields)  # type: ignore[attr-defined]
        return wrapper

    return decorate
