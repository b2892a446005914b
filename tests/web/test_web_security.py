"""CSRF, session fixation, lockout, idle and absolute timeouts, sign-out, security headers,
error pages without tracebacks."""

from __future__ import annotations

import re

from sqlalchemy import select
from web_helpers import GOOD, WebEnv, login, page_token, session_cookie

from pipeline.appdb.models import AuditEntry, WebSession
from pipeline.web.headers import CSP
from pipeline.web.policy import public

SESSION = "__Host-sentinel-session"


def _main(html: str) -> str:
    """The page's main content, without the per-request tokens."""
    body = html.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    return re.sub(r'value="[A-Za-z0-9_-]{20,}"', 'value="TOKEN"', body)


# --- CSRF ------------------------------------------------------------------------------------


def test_state_change_without_or_with_a_wrong_token_is_refused(web: WebEnv) -> None:
    client = web.signed_in("u-analyst")
    no_token = client.post("/account", data={"language": "zh", "email": ""})
    wrong = client.post("/account", data={"language": "zh", "email": "", "csrf_token": "x" * 43})
    assert no_token.status_code == 403 and wrong.status_code == 403
    assert "expired or did not come from Sentinel" in no_token.text
    other = web.signed_in("u-coder")  # a real token, but of another session
    stolen = page_token(other, "/")
    assert client.post("/account", data={"language": "zh", "csrf_token": stolen}).status_code == 403
    with web.db.transaction() as session:  # nothing changed
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "user.update_profile" not in actions


def test_the_right_token_in_the_form_or_the_header_works(web: WebEnv) -> None:
    client = web.signed_in("u-analyst")
    token = page_token(client, "/")
    in_form = client.post("/account", data={"language": "en", "email": "", "csrf_token": token})
    assert in_form.status_code == 303
    in_header = client.post(
        "/account",
        data={"language": "en", "email": "a@example.org"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert in_header.status_code == 303
    wrong_header = client.post(
        "/account", data={"language": "en", "csrf_token": token}, headers={"X-CSRF-Token": "no"}
    )
    assert wrong_header.status_code == 403  # the header, when sent, is what counts


def test_cross_site_requests_are_refused_even_with_a_token(web: WebEnv) -> None:
    client = web.signed_in("u-analyst")
    token = page_token(client, "/")
    response = client.post(
        "/account",
        data={"language": "en", "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_sign_in_form_is_csrf_protected_too(web: WebEnv) -> None:
    client = web.client()
    bare = client.post("/login", data={"username": "u-admin", "password": GOOD})
    assert bare.status_code == 403 and session_cookie(client) is None
    token = page_token(client, "/login")
    elsewhere = web.client()  # another browser: its own pre-session nonce
    page_token(elsewhere, "/login")
    forged = elsewhere.post(
        "/login", data={"username": "u-admin", "password": GOOD, "csrf_token": token}
    )
    assert forged.status_code == 403 and session_cookie(elsewhere) is None
    ok = client.post("/login", data={"username": "u-admin", "password": GOOD, "csrf_token": token})
    assert ok.status_code == 303 and session_cookie(client)


# --- sessions ----------------------------------------------------------------------------------


def test_sign_in_issues_a_new_session_id_no_fixation(web: WebEnv) -> None:
    client = web.client()
    planted = "attacker-chosen-session-id-0123456789abcdef"
    client.cookies.set(SESSION, planted, domain="testserver.local")
    assert client.get("/").status_code == 303  # the planted id authenticates nobody
    assert login(client, "u-analyst", GOOD).status_code == 303
    issued = session_cookie(client)
    assert issued and issued != planted
    attacker = web.client()
    attacker.cookies.set(SESSION, planted, domain="testserver.local")
    assert attacker.get("/").status_code == 303
    # Signing in again (another account, same browser) replaces the session, too.
    again = client.post(
        "/login",
        data={"username": "u-coder", "password": GOOD, "csrf_token": page_token(client, "/")},
    )
    assert again.status_code == 303 and session_cookie(client) not in (issued, None)
    stale = web.client()
    stale.cookies.set(SESSION, issued, domain="testserver.local")
    assert stale.get("/").status_code == 303


def test_session_cookie_attributes(web: WebEnv) -> None:
    client = web.client()
    response = login(client, "u-analyst", GOOD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION}=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=strict", "Secure"):
        assert attribute in cookie
    assert "Domain" not in cookie and "Max-Age" not in cookie and "expires" not in cookie.lower()


def test_idle_timeout_and_activity(web: WebEnv) -> None:
    client = web.signed_in("u-analyst")
    for _ in range(3):  # active every 25 minutes: still signed in after 75 minutes
        web.clock.advance(minutes=25)
        assert client.get("/").status_code == 200
    web.clock.advance(minutes=web.settings.web.session_idle_minutes + 1)
    response = client.get("/account")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/account"


def test_absolute_lifetime(web: WebEnv) -> None:
    client = web.signed_in("u-analyst")
    hours = web.settings.web.session_max_hours
    for _ in range(hours * 3 - 1):  # every 20 minutes, just short of the limit
        web.clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    web.clock.advance(minutes=21)
    assert client.get("/").status_code == 303


def test_sign_out_destroys_the_session(web: WebEnv) -> None:
    client = web.signed_in("u-analyst")
    raw = session_cookie(client)
    response = client.post("/logout", data={"csrf_token": page_token(client, "/")})
    assert response.status_code == 303 and response.headers["location"] == "/login?signed_out=1"
    assert f'{SESSION}=""' in response.headers["set-cookie"]
    assert "You have signed out" in client.get("/login?signed_out=1").text
    replay = web.client()
    replay.cookies.set(SESSION, raw, domain="testserver.local")
    assert replay.get("/").status_code == 303
    with web.db.transaction() as session:
        assert session.scalars(select(WebSession)).all() == []
        assert session.scalars(select(AuditEntry.action)).all()[-1] == "auth.sign_out"


# --- lockout -----------------------------------------------------------------------------------


def test_lockout_message_does_not_reveal_whether_the_user_exists(web: WebEnv) -> None:
    client = web.client()
    unknown = login(client, "nobody-at-all", "whatever-password-1")
    wrong = login(client, "u-analyst", "whatever-password-1")
    assert unknown.status_code == wrong.status_code == 200
    assert _main(unknown.text).replace("nobody-at-all", "X") == _main(wrong.text).replace(
        "u-analyst", "X"
    )
    for _ in range(web.settings.web.login_max_failures - 1):
        login(client, "u-analyst", "whatever-password-1")
    locked = login(client, "u-analyst", GOOD)  # the right password, but locked now
    assert locked.status_code == 200 and session_cookie(client) is None
    assert _main(locked.text).replace("u-analyst", "X") == _main(wrong.text).replace(
        "u-analyst", "X"
    )
    assert "Sign-in failed" in locked.text
    web.clock.advance(minutes=web.settings.web.login_lockout_minutes + 1)
    assert login(client, "u-analyst", GOOD).status_code == 303


def test_admin_sees_and_lifts_a_lockout(web: WebEnv) -> None:
    client = web.client()
    for _ in range(web.settings.web.login_max_failures):
        login(client, "u-coder", "whatever-password-1")
    admin = web.signed_in("u-admin")
    assert "locked" in admin.get("/admin/users/u-coder").text
    admin.post("/admin/users/u-coder/enable", data={"csrf_token": page_token(admin, "/")})
    assert login(web.client(), "u-coder", GOOD).status_code == 303


# --- headers and errors -----------------------------------------------------------------------


def _check_headers(response) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP
    assert "unsafe-inline" not in CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "server" not in headers


def test_security_headers_on_every_kind_of_response(web: WebEnv) -> None:
    anonymous = web.client()
    admin = web.signed_in("u-admin")
    responses = [
        anonymous.get("/login"),
        anonymous.get("/"),  # redirect
        anonymous.get("/no/such/page"),  # 404
        anonymous.get("/static/css/app.css"),
        anonymous.get("/static/vendor/htmx.min.js"),
        anonymous.post("/login", data={}),  # 403 CSRF
        admin.get("/"),
        admin.get("/admin/users"),
        admin.get("/hospitals"),
        admin.delete("/admin/users"),  # 405
    ]
    for response in responses:
        _check_headers(response)
    assert responses[0].headers["cache-control"] == "no-store"
    assert responses[3].headers["cache-control"] == "no-cache"  # static: revalidated
    assert responses[2].status_code == 404 and responses[9].status_code == 405


def test_plain_http_on_a_network_address_warns_that_sign_in_will_not_stick(web: WebEnv) -> None:
    remote = web.client()
    remote.base_url = remote.base_url.copy_with(scheme="http", host="10.1.2.3")
    assert "plain HTTP" in remote.get("/login").text
    loopback = web.client()
    loopback.base_url = loopback.base_url.copy_with(scheme="http", host="127.0.0.1")
    assert "plain HTTP" not in loopback.get("/login").text
    assert "plain HTTP" not in web.client().get("/login").text  # https


def test_hsts_only_over_https(web: WebEnv) -> None:
    assert "strict-transport-security" in web.client().get("/login").headers
    plain = web.client()
    plain.base_url = plain.base_url.copy_with(scheme="http")
    assert "strict-transport-security" not in plain.get("/login").headers


def test_an_unexpected_error_is_a_page_in_the_users_language(web: WebEnv) -> None:
    @web.app.get("/boom")
    def boom(ctx: object = public()) -> str:
        raise RuntimeError("secret internals /etc/passwd")

    for lang, text in (("en", "Something went wrong"), ("zh", "系统内部出错")):
        response = web.client(**{"accept-language": lang}).get("/boom")
        assert response.status_code == 500 and text in response.text
        assert "Traceback" not in response.text and "secret internals" not in response.text
        assert re.search(r"Reference: [0-9a-f]{8}|参考编号：[0-9a-f]{8}", response.text)
        _check_headers(response)


def test_malformed_requests_get_error_pages(web: WebEnv) -> None:
    client = web.signed_in("u-admin")
    token = page_token(client, "/")
    too_big = client.post(
        "/account",
        content=b"x" * (2 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert too_big.status_code == 413
    bad_lang = client.post("/lang", data={"lang": "fr", "csrf_token": token})
    assert bad_lang.status_code == 400 and "Traceback" not in bad_lang.text
    long_field = client.post("/account", data={"language": "x" * 50, "csrf_token": token})
    assert long_field.status_code == 400 and "not understood" in long_field.text


def test_next_parameter_cannot_leave_the_site(web: WebEnv) -> None:
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "/login"):
        response = login(web.client(), "u-analyst", GOOD, next=target)
        assert response.headers["location"] == "/", target
    assert login(web.client(), "u-analyst", GOOD, next="/account").headers["location"] == (
        "/account"
    )
