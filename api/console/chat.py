"""Chat in the console: the same supervisor as /api/v1/chat, as the signed-in visitor (what a turn may start
or decide is their role's), with the conversation kept in its thread."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.access import VisitorDep
from api.console.rendering import page
from api.console.sessions import form
from api.service.deps import ChatDep
from graphs.supervisor.chat import ChatError, new_thread_id

router = APIRouter(include_in_schema=False)
THREAD = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(
    request: Request, who: VisitorDep, chat: ChatDep, thread: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    if not THREAD.match(thread):
        return RedirectResponse(f"/chat?thread={new_thread_id()}", status_code=303)
    history = await chat.history(thread)
    return page(request, "chat.html", who, title="Chat", thread=thread, history=history)


@router.post("/chat", response_class=HTMLResponse)
async def say(request: Request, who: VisitorDep, chat: ChatDep) -> Response:
    posted = await form(request, who)
    thread = posted.get("thread")
    if not THREAD.match(thread):
        thread = new_thread_id()
    message = posted.get("message")
    try:
        turn = await chat.turn(thread, message, who.caller)
        said, error = turn.reply, None
    except ChatError as exc:
        said, error = None, str(exc)
    if request.headers.get("hx-request"):  # the new exchange, appended to the conversation on the page
        return page(request, "_chat_turn.html", who, message=message, reply=said, error=error)
    return RedirectResponse(f"/chat?thread={thread}", status_code=303)
