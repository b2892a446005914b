"""The authorization matrix, generated from the app's own route table: every route x every
role (and signed out) against the rule the route declares. A route without a rule fails."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tiny_warehouse import PACK, REVIEW_OPEN, SIGNAL_ID, SUBMISSION, WEEK
from web_helpers import BY_ROLE, GOOD, WebEnv, login, page_token

from pipeline.appdb.audit import Actor
from pipeline.appdb.roles import ALL_ROLES, Role
from pipeline.services import api_tokens
from pipeline.web.areas import AREAS
from pipeline.web.policy import (
    BearerRule,
    Rule,
    UndeclaredRoute,
    check_policy,
    policy_table,
    public,
    requires,
)

# A value for every path parameter a route may declare; a new parameter name fails the matrix
# until it is given one here.
PATH_VALUES = {
    "username": "target-user",
    "code": "GZ001",
    "signal_id": SIGNAL_ID,
    "notice_id": "N-no-such-notice",
    "submission_id": SUBMISSION,
    "query_id": "1",
    "name": PACK,
    "followup_id": "F-no-such-followup",
}
# A harmless form for each state-changing route (the CSRF token is added by the test).
FORMS: dict[str, dict[str, str]] = {
    "/login": {"username": "nobody-here", "password": "not-the-password"},
    "/lang": {"lang": "en", "next": "/"},
    "/account": {"language": "en", "email": ""},
    "/account/password": {},
    "/admin/users": {},
    "/admin/users/{username}/role": {"role": "analyst"},
    "/admin/users/{username}/disable": {"back": "detail"},
    "/admin/users/{username}/enable": {"back": "detail"},
    "/admin/users/{username}/reset-password": {},
    "/logout": {},
    "/cases/saved": {"name": "matrix", "query_string": "category=HA01"},
    "/cases/saved/{query_id}/delete": {},
    "/coding/resolve": {"review_id": REVIEW_OPEN, "category": "HA01"},
    "/evidence/requests": {"signal_id": SIGNAL_ID, "week": WEEK},
    "/hospitals/{code}/upload": {},
    "/account/notifications": {"kind": "new_signals"},
    # Refused by the triage rules (no reason; no case chosen): allowed, answered 400.
    "/signals/{signal_id}/decision": {"decision": "watch", "reason": "", "week": WEEK},
    "/signals/{signal_id}/followups": {"note": "matrix", "week": WEEK},
    "/signals/{signal_id}/followups/{followup_id}/result": {"reached": "no", "conclusion": ""},
    "/signals/{signal_id}/notices": {"kind": "risk-notice", "week": WEEK, "text_zh": ""},
    "/approvals/{notice_id}/approve": {"comment": "matrix"},
    "/approvals/{notice_id}/return": {"comment": ""},
}
# The submission API (bearer token, no form, no CSRF): a body for each POST route.
API_BODIES: dict[str, tuple[str, bytes]] = {
    "/api/v1/submissions": ("GZ001_20990101.csv", b"not,a,real,extract\n"),
    "/api/v1/validate": ("GZ001_20990101.csv", b"not,a,real,extract\n"),
}


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no test value for a parameter of {path}: add it to PATH_VALUES"
    return path


def _identities(web: WebEnv) -> dict[str, tuple[Role | None, TestClient]]:
    out: dict[str, tuple[Role | None, TestClient]] = {"signed-out": (None, web.client())}
    for role, username in BY_ROLE.items():
        out[role.value] = (role, web.signed_in(username))
    return out


def _request(client: TestClient, method: str, path: str, signed_in: bool, tokens: dict):  # type: ignore[no-untyped-def]
    """``tokens``: each client's CSRF token (its session's), fetched once."""
    url = _url(path)
    if method == "GET":
        return client.get(url)
    token = tokens.get(client) or page_token(client, "/" if signed_in else "/login")
    tokens[client] = token
    if path in API_BODIES:  # a clerk's session (and CSRF token) admits it, nobody else's
        name, data = API_BODIES[path]
        return client.post(
            url,
            params={"filename": name},
            content=data,
            headers={"content-type": "text/csv", "x-csrf-token": token},
        )
    return client.request(method, url, data={**FORMS[path], "csrf_token": token})


def _is_sign_in_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    """Sent to sign in first (a sign-out's own redirect to /login?signed_out=1 is not this)."""
    location = response.headers.get("location", "")
    return response.status_code == 303 and (
        location == "/login" or location.startswith("/login?next=")
    )


def test_every_route_declares_exactly_one_rule(web: WebEnv) -> None:
    routes = [r for r in web.app.routes if isinstance(r, APIRoute)]
    table = policy_table(web.app)
    assert routes and len(table) == sum(len(r.methods) for r in routes)
    check_policy(web.app.routes)  # what create_app ran


def test_a_route_without_a_rule_is_refused(web: WebEnv) -> None:
    @web.app.get("/undeclared")
    def undeclared() -> str:
        return "nobody said who may see this"

    with pytest.raises(UndeclaredRoute, match="/undeclared"):
        check_policy(web.app.routes)


def test_a_route_with_two_rules_is_refused(web: WebEnv) -> None:
    @web.app.get("/twice")
    def twice(a: object = public(), b: object = requires(Role.ADMIN)) -> str:
        return "which one?"

    with pytest.raises(UndeclaredRoute, match="2 policy rules"):
        check_policy(web.app.routes)


def test_requires_needs_a_role() -> None:
    with pytest.raises(ValueError):
        requires()


@pytest.mark.slow
def test_authorization_matrix(web: WebEnv) -> None:
    table = policy_table(web.app)
    assert set(FORMS) | set(API_BODIES) | {p for m, p in table if m == "GET"} >= {
        p for _, p in table
    }
    identities = _identities(web)
    # Sign-out ends the session, so it goes last for every identity.
    order = sorted(table, key=lambda key: (key[1] == "/logout", key))
    failures: list[str] = []
    tokens: dict = {}
    for method, path in order:
        rule: Rule = table[(method, path)]
        for name, (role, client) in identities.items():
            response = _request(client, method, path, role is not None, tokens)
            status = response.status_code
            where = f"{method} {path} as {name}: {status}"
            if status >= 500:
                failures.append(f"{where} (server error)")
            elif isinstance(rule, BearerRule):
                # Without a token only a signed-in clerk's session reaches the API (the web
                # upload page); signed out: 401 JSON, any other role: 403 JSON.
                assert {r for r in ALL_ROLES if rule.allows(r)} == {Role.HOSPITAL_CLERK}
                if rule.allows(role):
                    if status in (401, 403):
                        failures.append(f"{where} (a clerk's session should be admitted)")
                elif status != (401 if role is None else 403) or "error" not in response.json():
                    expected = "401" if role is None else "403"
                    failures.append(f"{where} (API route without a token should be {expected})")
            elif rule.allows(role):
                if status in (401, 403) or _is_sign_in_redirect(response):
                    failures.append(f"{where} (should be allowed)")
                elif (
                    method == "GET"
                    and status != 200
                    and not (path == "/login" and role is not None and status == 303)
                ):
                    failures.append(f"{where} (allowed GET should answer 200)")
            elif role is None:
                expected = _is_sign_in_redirect(response) if method == "GET" else status == 401
                if not expected:
                    failures.append(f"{where} (signed out: should be sent to sign in)")
            elif status != 403:
                failures.append(f"{where} (should be 403)")
    assert not failures, "\n".join(failures)


def test_a_clerk_gets_404_for_another_hospital(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")
    assert clerk.get("/hospitals/GZ001").status_code == 200
    other = clerk.get("/hospitals/SH001")
    missing = clerk.get("/hospitals/XX999")
    assert other.status_code == 404 and missing.status_code == 404
    # The same page whether the other hospital exists or not: nothing is revealed.
    assert other.text.replace("SH001", "X") == missing.text.replace("XX999", "X")
    assert clerk.get("/hospitals/gz001").status_code == 200  # codes are case-insensitive
    coordinator = web.signed_in("u-coordinator")
    assert coordinator.get("/hospitals/SH001").status_code == 200
    assert coordinator.get("/hospitals/XX999").status_code == 404


def test_areas_match_the_rules_of_their_pages(web: WebEnv) -> None:
    table = policy_table(web.app)
    for area in AREAS:
        rule = table[("GET", area.route)]
        for role in ALL_ROLES:
            if role in area.roles:
                assert rule.allows(role), (area.key, role)
        if "{code}" not in area.route:  # clerks see only their own hospital's: checked above
            assert {r for r in ALL_ROLES if rule.allows(r)} == set(area.roles), area.key


def test_home_lists_only_the_roles_areas(web: WebEnv) -> None:
    for role, username in BY_ROLE.items():
        html = web.signed_in(username).get("/").text
        shown = {a.key for a in AREAS if f'data-area="{a.key}"' in html}
        assert shown == {a.key for a in AREAS if role in a.roles}, role
    assert 'href="/hospitals/GZ001"' in web.signed_in("u-clerk").get("/").text


def test_login_as_every_role_works_in_a_fresh_client(web: WebEnv) -> None:
    for username in BY_ROLE.values():
        client = web.client()
        assert login(client, username, GOOD).headers["location"] == "/"


def test_api_routes_admit_a_token_and_refuse_anything_else(web: WebEnv) -> None:
    """Every bearer-token route x (no token, a malformed header, a wrong token, a revoked token,
    a valid token): only the valid token passes the rule."""
    table = policy_table(web.app)
    api_routes = sorted(k for k, rule in table.items() if isinstance(rule, BearerRule))
    assert {p for _, p in api_routes} == {
        "/api/v1/submissions",
        "/api/v1/submissions/{submission_id}",
        "/api/v1/validate",
    }
    system = Actor(None, "os:test", "cli")
    good = api_tokens.issue(web.db, web.settings, system, "GZ001").token
    revoked = api_tokens.issue(web.db, web.settings, system, "GZ001")
    api_tokens.revoke(web.db, system, "GZ001", str(revoked.view.id))
    headers = {
        "none": {},
        "malformed": {"authorization": good},  # no scheme
        "basic": {"authorization": f"Basic {good}"},
        "wrong": {"authorization": "Bearer snt_" + "x" * 43},
        "revoked": {"authorization": f"Bearer {revoked.token}"},
        "good": {"authorization": f"Bearer {good}"},
    }
    client = web.client()
    failures = []
    for method, path in api_routes:
        for name, extra in headers.items():
            if method == "GET":
                response = client.get(_url(path), headers=extra)
            else:
                filename, data = API_BODIES[path]
                response = client.post(
                    _url(path),
                    params={"filename": filename},
                    content=data,
                    headers={"content-type": "text/csv", **extra},
                )
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {path} {name}: {status} (server error)")
            elif name == "good" and status in (401, 403):
                failures.append(f"{method} {path} {name}: {status} (should pass the rule)")
            elif name != "good" and status != 401:
                failures.append(f"{method} {path} {name}: {status} (should be 401)")
    assert not failures, "\n".join(failures)
