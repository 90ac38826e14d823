"""Authentication and authorisation of HTTP requests: tokens, roles, county scopes, rate limits."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.auth import ALL_COUNTIES, ROLES, Principal, Role, TokenError, load_public_key, verify_token
from shared.problems import Forbidden, Problem, Unauthenticated
from shared.settings import Settings

log = logging.getLogger(__name__)


class TooManyRequests(Problem):
    """The principal exceeded its request rate."""

    status = 429
    type_slug = "rate-limited"
    title = "Too many requests (请求过于频繁)"


@dataclass
class RateLimiter:
    """A token bucket per principal: `rate` requests a second on average, bursts up to `burst`."""

    rate: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one request; 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


@dataclass
class Guard:
    """Authenticates bearer tokens, checks the route's role and each principal's rate."""

    public_key: Ed25519PublicKey
    limiter: RateLimiter | None = None

    def authorize(self, request: web.Request, role: Role) -> Principal:
        """The caller, when its token is valid and holds `role`; 401 or 403 otherwise."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("a bearer token is required (需要持有令牌): Authorization: Bearer <token>")
        try:
            principal = verify_token(self.public_key, token.strip())
        except TokenError as exc:
            raise Unauthenticated(str(exc), challenge='Bearer error="invalid_token"') from exc
        if not principal.has(role):
            raise Forbidden(f"role {role} required (需要 {_ROLE_ZH[role]} 角色); token has "
                            f"{', '.join(sorted(principal.roles)) or 'none'}", required_role=role)
        if self.limiter is not None:
            wait = self.limiter.take(principal.subject)
            if wait:
                raise TooManyRequests(f"rate limit of {self.limiter.rate:g}/s for {principal.subject} exceeded "
                                      "(超出访问频率限制)", headers={"Retry-After": str(max(1, round(wait)))})
        return principal


PRINCIPAL = web.RequestKey("principal", Principal)
"""Who made the request, set once its route's role is authorised (absent while auth is disabled)."""

_ROLE_ZH = {"recorder": "记录员", "auditor": "审计员", "operator": "运维员"}
assert set(_ROLE_ZH) == set(ROLES)


def require_counties(request: web.Request, counties: Iterable[str]) -> None:
    """403 unless the caller's scope covers every county (no-op when auth is disabled)."""
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        return
    outside = sorted(c for c in set(counties) if not principal.covers(c))
    if outside:
        raise Forbidden(f"county {', '.join(outside)} is outside the token's scope (超出授权县域)",
                        counties=outside)


def county_scoped(request: web.Request) -> bool:
    """Whether the caller may read some counties only (a county-scoped token): a read of one cadre must then find
    where the cadre is on record, and decide on it, before it reads anything more of the cadre."""
    principal: Principal | None = request.get(PRINCIPAL)
    return principal is not None and not principal.covers(ALL_COUNTIES)


def require_cadre_visible(request: web.Request, counties: Iterable[str], unknown: Problem) -> None:
    """A read of one cadre recorded in `counties`: `unknown` (the 404 of a cadre with no record) when the caller's
    scope covers none of them. A scoped token answered 403 for another county's cadre and 404 for an unknown one
    could learn which cadre ids exist elsewhere, and where; so could one answered later for it, which is why a read
    decides this before it reads the cadre's events. The attempt stays in the access trail and the log."""
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        return
    counties = set(counties)
    if not any(principal.covers(c) for c in counties):
        log.info("%s read a cadre of county %s outside its scope: answered as no record", principal.subject,
                 ", ".join(sorted(counties)))
        raise unknown


def require_cadre_in_scope(request: web.Request, counties: Iterable[str], unknown: Problem) -> None:
    """`require_cadre_visible`, then 403 unless the caller's scope covers every one of `counties` (a cadre with
    events in a county outside it: its existence is no secret to the token, what it may not read is)."""
    counties = set(counties)
    require_cadre_visible(request, counties, unknown)
    require_counties(request, counties)


def require_county_filter(request: web.Request, county: str | None) -> None:
    """A list filtered by county: a county-scoped caller must name one of its counties."""
    principal: Principal = request[PRINCIPAL]
    if county is not None:
        require_counties(request, [county])
    elif not principal.covers(ALL_COUNTIES):
        raise Forbidden("a county-scoped token must filter by one of its counties (?county=) (须指定授权县域)",
                        counties=sorted(principal.counties))


def guard_from_settings(settings: Settings) -> Guard | None:
    """The guard the settings ask for; exits with a clear message when no key is configured or it cannot be read."""
    if settings.auth_disabled:
        log.warning("authentication is DISABLED (CADRE_AUTH_DISABLED=true)")
        return None
    if settings.auth_public_key_file is None:
        raise SystemExit("CADRE_AUTH_PUBLIC_KEY_FILE is not set: every endpoint needs a token verified with it "
                         "(create keys with `cadre-ledger token keygen`), or set CADRE_AUTH_DISABLED=true")
    limiter = RateLimiter(settings.rate_per_s, settings.rate_burst) if settings.rate_per_s > 0 else None
    try:
        key = load_public_key(settings.auth_public_key_file)
    except TokenError as exc:
        raise SystemExit(f"CADRE_AUTH_PUBLIC_KEY_FILE: {exc}") from None
    return Guard(key, limiter)
