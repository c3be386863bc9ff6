"""Asking a model for one small JSON reply of a known shape, as every drafting stage does.

A reply that does not validate is sent back once with the error; a reply cut at its token limit is asked
again with twice the room. When the second reply fails too, or the model fails in a way a retry cannot fix
here, the caller gets None and a note, and falls back to its offline way: a stage failure never crashes a draft.
A fatal model error (a wrong key, a server that is not there) is raised: nothing later would succeed.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from synth.errors import LLMError
from synth.llm.base import LLM, Message, Reply
from synth.llm.replies import find_json

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def _validate(reply: Reply, model: type[M]) -> M:
    found = find_json(reply.text)
    if found is None:
        raise ValueError("the reply holds no JSON object")
    if not found.complete:
        raise ValueError("the reply was cut before its JSON closed")
    return model.model_validate(found.value)


def brief(error: Exception | None, limit: int | None = None) -> str:
    """What was wrong with a reply, in one line: the first validation error, or the message (cut at `limit`)."""
    if error is None:
        return "none"
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(error).splitlines()[0][:limit]


def asked_again(messages: list[Message], reply: Reply, error: Exception) -> list[Message]:
    """The conversation with the invalid reply and what was wrong with it, asking for the JSON once more."""
    return [*messages, {"role": "assistant", "content": reply.text[:4000]},
            {"role": "user", "content": f"That reply was not valid: {brief(error)}. Reply again with only the JSON object."}]  # fmt: skip


async def ask(
    llm: LLM, messages: list[Message], model: type[M], *, stage: str, max_tokens: int
) -> tuple[M | None, str | None]:
    """The reply validated as `model`, or (None, a note saying why) after two failed tries."""
    schema = model.model_json_schema()
    try:
        reply = await llm.acomplete(messages, schema=schema, max_tokens=max_tokens, stage=stage)
        try:
            return _validate(reply, model), None
        except (ValueError, ValidationError) as error:
            if reply.truncated:
                again = await llm.acomplete(messages, schema=schema, max_tokens=2 * max_tokens, stage=stage)
            else:
                retry = asked_again(messages, reply, error)
                again = await llm.acomplete(retry, schema=schema, max_tokens=max_tokens, stage=stage)
            try:
                return _validate(again, model), None
            except (ValueError, ValidationError) as second:
                return (
                    None,
                    f"{stage}: the model's reply was invalid twice ({brief(second, 200)}); used the offline way",
                )
    except LLMError as e:
        if e.fatal:
            raise
        log.warning("%s stage failed (%s); using the offline way", stage, e)
        return None, f"{stage}: the model failed ({str(e)[:160]}); used the offline way"
