"""My account → Notifications: which e-mails this user gets (kinds their role can get)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pipeline.services import accounts
from pipeline.services import notifications as service
from pipeline.web.context import Ctx
from pipeline.web.policy import signed_in
from pipeline.web.render import page, redirect

router = APIRouter()


def _form(ctx: Ctx, saved: bool = False) -> Response:
    user = accounts.get_user(ctx.state.db, ctx.user.username)  # type: ignore[union-attr]
    return page(
        ctx,
        "notifications.html",
        choices=service.choices(ctx.state.db, user),
        email=user.email,
        configured=bool(ctx.state.settings.smtp.host),
        notice="notifications.saved" if saved else None,
    )


@router.get("/account/notifications")
def preferences(request: Request, ctx: Ctx = signed_in()) -> Response:
    return _form(ctx, saved=bool(request.query_params.get("saved")))


@router.post("/account/notifications")
async def save(request: Request, ctx: Ctx = signed_in()) -> Response:
    form = await request.form()
    wanted = {str(v) for v in form.getlist("kind")}
    user = accounts.get_user(ctx.state.db, ctx.user.username)  # type: ignore[union-attr]
    service.set_choices(ctx.state.db, ctx.actor(), user, wanted)
    return redirect(ctx, "/account/notifications?saved=1")
