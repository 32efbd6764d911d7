"""What every console page depends on: the signed-in visitor, the service's parts, and the refusals a page
shows in words (sign in first; a form that did not come from the console; a role that may not)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.memo import Memo
from api.console.rendering import page
from api.console.sessions import CsrfError, SignInNeeded, Visitor, visitor
from graphs.rollout.authority import Action, NotPermittedError, permit

VisitorDep = Annotated[Visitor, Depends(visitor)]


class Forbidden(Exception):
    """The visitor's role may not do what the page was asked (the domain's words)."""

    def __init__(self, message: str, visitor: Visitor) -> None:
        super().__init__(message)
        self.message, self.visitor = message, visitor


def permitted(who: Visitor, action: Action) -> None:
    """Raise Forbidden unless the visitor's role allows `action` (graphs.rollout.authority's rule)."""
    try:
        permit(who.caller, action)
    except NotPermittedError as exc:
        raise Forbidden(str(exc), who) from None


def memo(request: Request) -> Memo:
    kept: Memo = request.app.state.console_memo
    return kept


MemoDep = Annotated[Memo, Depends(memo)]


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, _: SignInNeeded) -> Response:
        back = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&")
        if request.headers.get("hx-request"):  # an HTMX swap: the browser itself goes to the sign-in page
            return Response(status_code=204, headers={"HX-Redirect": f"/login?next={back}"})
        return RedirectResponse(f"/login?next={back}", status_code=303)

    @app.exception_handler(CsrfError)
    async def forged(request: Request, _: CsrfError) -> HTMLResponse:
        message = "This form did not come from your console session (or the session ended): nothing was done."
        return page(request, "refused.html", None, status_code=403, title="Refused", message=message)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        return page(request, "refused.html", exc.visitor, status_code=403, title="Not allowed",
                    message=exc.message[:1].upper() + exc.message[1:] + ".")  # fmt: skip
