"""The areas of the workspace, listed on the home page and in the navigation by role.

A later page adds one ``Area`` here (and its route with its rule); the test suite checks that
every area's page admits exactly the roles that see the area.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.appdb.accounts import UserView
from pipeline.appdb.roles import ALL_ROLES, Role


@dataclass(frozen=True)
class Area:
    key: str  # catalog keys area.<key>.title / area.<key>.text
    roles: frozenset[Role]
    href: Callable[[UserView], str]
    route: str  # the route path (with parameters) that serves it


AREAS: tuple[Area, ...] = (
    Area(
        "signals",
        frozenset({Role.ANALYST, Role.SUPERVISOR}),
        lambda _u: "/signals",
        "/signals",
    ),
    Area("approvals", frozenset({Role.SUPERVISOR}), lambda _u: "/approvals", "/approvals"),
    Area(
        "users",
        frozenset({Role.ADMIN}),
        lambda _u: "/admin/users",
        "/admin/users",
    ),
    Area(
        "hospitals",
        frozenset({Role.ADMIN, Role.COORDINATOR}),
        lambda _u: "/hospitals",
        "/hospitals",
    ),
    Area(
        "my_hospital",
        frozenset({Role.HOSPITAL_CLERK}),
        lambda u: f"/hospitals/{u.hospital_code}",
        "/hospitals/{code}",
    ),
    Area(
        "cases",
        frozenset({Role.ANALYST, Role.SUPERVISOR, Role.RECALL_OFFICER}),
        lambda _u: "/cases",
        "/cases",
    ),
    Area("coding", frozenset({Role.CODER}), lambda _u: "/coding", "/coding"),
    Area("evidence", frozenset({Role.RECALL_OFFICER}), lambda _u: "/evidence", "/evidence"),
    Area(
        "network",
        frozenset({Role.COORDINATOR, Role.ADMIN}),
        lambda _u: "/network",
        "/network",
    ),
    Area(
        "my_submissions",
        frozenset({Role.HOSPITAL_CLERK}),
        lambda u: f"/hospitals/{u.hospital_code}/submissions",
        "/hospitals/{code}/submissions",
    ),
    Area("account", ALL_ROLES, lambda _u: "/account", "/account"),
)


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str


def areas_for(user: UserView | None) -> list[NavItem]:
    if user is None or user.must_change_password:  # nothing to reach before the change
        return []
    return [NavItem(a.key, a.href(user)) for a in AREAS if user.role in a.roles]
