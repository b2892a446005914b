"""The pages: admin user management, my account, password change, languages, htmx fragments,
hostile text shown inert. Every action works as a plain form post and through htmx."""

from __future__ import annotations

import html
import re

from markupsafe import escape
from sqlalchemy import select
from web_helpers import GOOD, WebEnv, login, page_token, session_cookie

from pipeline.appdb.models import AuditEntry

HOSTILE = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    '=HYPERLINK("http://evil.example","click")',
    '"><svg onload=alert(1)>',
]


def _one_time_password(page: str) -> str:
    match = re.search(r'<code id="one-time-password">([^<]+)</code>', page)
    assert match, "no one-time password on the page"
    return html.unescape(match.group(1))


def _audit(web: WebEnv) -> list[tuple[str, str, str | None, str]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        return [(r.action, r.actor_username, r.object_id, r.channel) for r in rows]


def test_admin_creates_a_clerk_who_must_change_the_generated_password(web: WebEnv) -> None:
    admin = web.signed_in("u-admin")
    token = page_token(admin, "/admin/users/new")
    created = admin.post(
        "/admin/users",
        data={
            "username": "Li.Na",
            "display_name": "李娜",
            "role": "hospital_clerk",
            "hospital_code": "SH001",
            "email": "lina@example.org",
            "language": "zh",
            "csrf_token": token,
        },
    )
    assert created.status_code == 201 and "li.na" in created.text
    password = _one_time_password(created.text)
    assert created.headers["cache-control"] == "no-store"
    assert ("user.create", "u-admin", "li.na", "web") in _audit(web)
    # The new clerk signs in and is sent to change the password before anything else.
    clerk = web.client()
    response = login(clerk, "li.na", password)
    assert response.headers["location"] == "/account/password"
    assert clerk.get("/").headers["location"] == "/account/password"
    assert clerk.get("/hospitals/SH001").headers["location"] == "/account/password"
    form = clerk.get("/account/password")
    assert "请先设置新密码" in form.text  # the clerk's language is Chinese
    changed = clerk.post(
        "/account/password",
        data={
            "current_password": password,
            "new_password": "Plum-blossom-8824",
            "confirm_password": "Plum-blossom-8824",
            "csrf_token": page_token(clerk, "/account/password"),
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == (
        "/account?password_changed=1"
    )
    assert "密码已修改" in clerk.get("/account?password_changed=1").text
    assert clerk.get("/hospitals/SH001").status_code == 200
    assert login(web.client(), "li.na", "Plum-blossom-8824").status_code == 303


def test_create_user_errors_are_shown_next_to_the_form(web: WebEnv) -> None:
    admin = web.signed_in("u-admin")
    token = page_token(admin, "/admin/users/new")
    clerk_without_hospital = admin.post(
        "/admin/users", data={"username": "x1", "role": "hospital_clerk", "csrf_token": token}
    )
    assert clerk_without_hospital.status_code == 400
    assert "must be bound to a hospital" in clerk_without_hospital.text
    duplicate = admin.post(
        "/admin/users", data={"username": "U-Analyst", "role": "analyst", "csrf_token": token}
    )
    assert duplicate.status_code == 400 and "already exists" in duplicate.text
    assert 'value="U-Analyst"' in duplicate.text  # the form keeps what was typed


def test_password_change_rotates_the_session_and_ends_the_others(web: WebEnv) -> None:
    here = web.signed_in("u-analyst")
    elsewhere = web.signed_in("u-analyst")
    before = session_cookie(here)
    bad = here.post(
        "/account/password",
        data={
            "current_password": GOOD,
            "new_password": "Plum-blossom-8824",
            "confirm_password": "Plum-blossom-0000",
            "csrf_token": page_token(here, "/account/password"),
        },
    )
    assert bad.status_code == 400 and "differ" in bad.text
    ok = here.post(
        "/account/password",
        data={
            "current_password": GOOD,
            "new_password": "Plum-blossom-8824",
            "confirm_password": "Plum-blossom-8824",
            "csrf_token": page_token(here, "/account/password"),
        },
    )
    assert ok.status_code == 303
    assert session_cookie(here) not in (None, before)
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 303  # signed out


def test_disable_enable_reset_and_set_role_as_plain_forms(web: WebEnv) -> None:
    admin = web.signed_in("u-admin")
    target = web.signed_in("target-user")
    token = page_token(admin, "/admin/users/target-user")
    disabled = admin.post("/admin/users/target-user/disable", data={"csrf_token": token})
    assert disabled.headers["location"] == "/admin/users/target-user?disabled=1"
    assert target.get("/").status_code == 303  # signed out everywhere
    assert login(web.client(), "target-user", GOOD).status_code == 200  # refused
    admin.post("/admin/users/target-user/enable", data={"csrf_token": token, "back": "list"})
    role = admin.post(
        "/admin/users/target-user/role",
        data={"role": "hospital_clerk", "hospital_code": "BJ001", "csrf_token": token},
    )
    assert role.headers["location"] == "/admin/users/target-user?saved=1"
    assert "BJ001" in admin.get("/admin/users/target-user").text
    reset = admin.post("/admin/users/target-user/reset-password", data={"csrf_token": token})
    password = _one_time_password(reset.text)
    assert login(web.client(), "target-user", GOOD).status_code == 200
    assert login(web.client(), "target-user", password).headers["location"] == "/account/password"
    actions = [a for a, actor, obj, _ in _audit(web) if obj == "target-user" and actor == "u-admin"]
    assert actions == ["user.disable", "user.enable", "user.set_role", "user.reset_password"]


def test_htmx_row_action_and_live_search_return_fragments(web: WebEnv) -> None:
    admin = web.signed_in("u-admin")
    token = page_token(admin, "/admin/users")
    row = admin.post(
        "/admin/users/target-user/disable",
        data={"back": "list"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert row.status_code == 200
    assert row.text.lstrip().startswith("<tr") and "<html" not in row.text
    assert "disabled" in row.text and "/admin/users/target-user/enable" in row.text
    found = admin.get("/admin/users?q=clerk", headers={"HX-Request": "true"})
    assert "<html" not in found.text
    assert "u-clerk" in found.text and "u-analyst" not in found.text
    whole = admin.get("/admin/users?q=clerk")  # the same search without JavaScript
    assert "<html" in whole.text and "u-clerk" in whole.text and "u-analyst" not in whole.text
    boosted = admin.get("/admin/users", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text  # a boosted link gets the whole page


def test_htmx_error_replaces_the_page_not_the_row(web: WebEnv) -> None:
    admin = web.signed_in("u-admin")
    token = page_token(admin, "/admin/users")
    last_admin = admin.post(
        "/admin/users/u-admin/disable",
        data={"back": "list"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert last_admin.status_code == 400 and "last active administrator" in last_admin.text
    assert last_admin.headers["HX-Retarget"] == "body"
    forbidden = web.signed_in("u-coder").get("/admin/users", headers={"HX-Request": "true"})
    assert forbidden.status_code == 403 and forbidden.headers["HX-Retarget"] == "body"
    signed_out = web.client().get("/admin/users", headers={"HX-Request": "true"})
    assert signed_out.headers["HX-Redirect"].startswith("/login")


def test_language_follows_browser_then_choice_then_user_preference(web: WebEnv) -> None:
    zh = web.client(**{"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert "登录" in zh.get("/login").text
    en = web.client(**{"accept-language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert "Sign in" in en.get("/login").text
    default = web.client(**{"accept-language": "fr"})
    assert "登录" in default.get("/login").text  # neither offered: Chinese
    switched = en.post(
        "/lang", data={"lang": "zh", "next": "/login", "csrf_token": page_token(en, "/login")}
    )
    assert switched.headers["location"] == "/login"
    assert "登录" in en.get("/login").text
    # Signed in, the user's own preference (en for the test users) wins, and switching saves it.
    user = web.client(**{"accept-language": "zh"})
    assert login(user, "u-analyst", GOOD).status_code == 303
    assert "My account" in user.get("/").text
    user.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": page_token(user, "/")})
    assert "我的账号" in user.get("/").text
    fresh = web.client(**{"accept-language": "en"})
    login(fresh, "u-analyst", GOOD)
    assert "我的账号" in fresh.get("/").text


def test_account_page_saves_language_and_email(web: WebEnv) -> None:
    client = web.signed_in("u-coder")
    token = page_token(client, "/account")
    saved = client.post(
        "/account", data={"language": "zh", "email": "coder@example.org", "csrf_token": token}
    )
    assert saved.headers["location"] == "/account?saved=1"
    page = client.get("/account?saved=1").text
    assert "设置已保存" in page and 'value="coder@example.org"' in page
    bad = client.post("/account", data={"language": "zh", "email": "<b>@", "csrf_token": token})
    assert bad.status_code == 400 and "&lt;b&gt;@" in bad.text and "<b>@" not in bad.text


def test_hostile_display_names_and_user_names_are_inert(web: WebEnv) -> None:
    admin = web.signed_in("u-admin")
    token = page_token(admin, "/admin/users/new")
    for i, payload in enumerate(HOSTILE):
        made = admin.post(
            "/admin/users",
            data={
                "username": f"h{i}",
                "display_name": payload,
                "role": "analyst",
                "csrf_token": token,
            },
        )
        assert made.status_code == 201
        refused = admin.post(
            "/admin/users", data={"username": payload, "role": "analyst", "csrf_token": token}
        )
        assert refused.status_code == 400 and "not allowed" in refused.text
        assert payload not in refused.text and str(escape(payload)) in refused.text
    listing = admin.get("/admin/users").text
    for payload in HOSTILE:
        assert str(escape(payload)) in listing
        assert payload not in listing or not any(c in payload for c in '<>"')
    assert "<script>alert" not in listing and "<img src=x" not in listing
    detail = admin.get("/admin/users/h1").text
    assert "<img src=x onerror" not in detail and "&lt;img src=x onerror" in detail


def test_hospital_pages_read_the_registry(web: WebEnv) -> None:
    coordinator = web.signed_in("u-coordinator")
    listing = coordinator.get("/hospitals").text
    assert "GZ001" in listing and "Guangzhou Yuexiu Children" in listing
    detail = coordinator.get("/hospitals/GZ001").text
    assert "u-clerk" in detail  # the clerks bound to it
    clerk_view = web.signed_in("u-clerk").get("/hospitals/GZ001").text
    assert "Guangzhou Yuexiu Children" in clerk_view and 'id="clerks"' not in clerk_view
