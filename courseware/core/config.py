"""Settings read from the environment (COURSEWARE_*), with embedded defaults.

One ``Config`` built from the environment; ``create_app(config)`` lays a
mapping of overrides on top, which is how the tests configure an app.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # courseware/: templates, static, translations
REPO_ROOT = PACKAGE_DIR.parent

ROLES = ("trainee", "trainer", "manager", "hr", "admin")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    try:
        return int(value) if value is not None else default
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from exc


def load_secret_key(
    instance_path: Path, env_name: str = "COURSEWARE_SECRET_KEY", file_name: str = "secret_key"
) -> str:
    """Return the secret key: from the environment, else from the instance folder.

    On first start a random key is written to ``instance/secret_key`` with mode
    600, so restarts keep sessions valid and nothing secret lives in the code.
    Other keys kept the same way name their variable and file (the xAPI pseudonym key:
    ``COURSEWARE_LRS_ACTOR_KEY``, ``instance/lrs_actor_key``).
    """
    from_env = _env(env_name)
    if from_env:
        return from_env
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / file_name
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def settings_from_env() -> dict[str, Any]:
    """Every setting with its value from the environment or its default."""
    instance = Path(_env("COURSEWARE_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    https = _env_bool("COURSEWARE_HTTPS")
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": _env("COURSEWARE_DATABASE_URL"),
        "CONTENT_DIR": _env("COURSEWARE_CONTENT_DIR", str(REPO_ROOT / "content")),
        "QUIZ_DIR": _env("COURSEWARE_QUIZ_DIR", str(REPO_ROOT / "quizzes")),
        "CASE_DIR": _env("COURSEWARE_CASE_DIR", str(REPO_ROOT / "case_studies")),
        "SETTINGS_FILE": _env("COURSEWARE_SETTINGS_FILE", str(REPO_ROOT / "settings.yaml")),
        "TIMEZONE": _env("COURSEWARE_TIMEZONE", "Asia/Taipei"),
        "REDIS_URL": _env("COURSEWARE_REDIS_URL"),
        # PostgreSQL: each worker keeps the lesson page's row until the database notifies a
        # change (web.learner.lesson_watch); off behind a pooler that does not carry LISTEN.
        "LESSON_KEEP_ROWS": _env_bool("COURSEWARE_LESSON_KEEP_ROWS", True),
        "SMTP_URL": _env("COURSEWARE_SMTP_URL"),
        "MAIL_FROM": _env("COURSEWARE_MAIL_FROM", "academy@localhost"),
        "HTTPS": https,
        "SESSION_IDLE_MINUTES": _env_int("COURSEWARE_SESSION_IDLE_MINUTES", 480),
        # Unset: settings.yaml's sign_in.address_failures per address_window_minutes.
        "LOGIN_LIMIT": _env("COURSEWARE_LOGIN_LIMIT"),
        # The reverse proxies (addresses or networks, comma-separated) whose
        # X-Forwarded-For is believed; from any other peer the header is ignored.
        "TRUSTED_PROXIES": _env("COURSEWARE_TRUSTED_PROXIES", ""),
        "LOG_LEVEL": _env("COURSEWARE_LOG_LEVEL", "INFO"),
        "DB_BUSY_TIMEOUT_MS": _env_int("COURSEWARE_DB_BUSY_TIMEOUT_MS", 5000),
        "PDF_FONT": _env("COURSEWARE_PDF_FONT"),
        "BASE_URL": _env("COURSEWARE_BASE_URL"),
        # Single sign-on by OpenID Connect: on when an issuer is set. The provider's
        # endpoints and keys are read from <issuer>/.well-known/openid-configuration.
        "OIDC_ISSUER": _env("COURSEWARE_OIDC_ISSUER"),
        "OIDC_CLIENT_ID": _env("COURSEWARE_OIDC_CLIENT_ID"),
        "OIDC_CLIENT_SECRET": _env("COURSEWARE_OIDC_CLIENT_SECRET"),
        # The id token claim whose values settings.yaml's sso.roles maps to our roles.
        "OIDC_SCOPES": _env("COURSEWARE_OIDC_SCOPES", "openid email profile"),
        "OIDC_ROLE_CLAIM": _env("COURSEWARE_OIDC_ROLE_CLAIM", "roles"),
        # 0: no password sign-in except administrators' (break-glass, at /login?local=1).
        "LOCAL_PASSWORDS": _env_bool("COURSEWARE_LOCAL_PASSWORDS", True),
        # xAPI: statements are queued only when LRS_URL is set (courseware.core.xapi) and
        # sent by `courseware outbox run` (courseware.ops.outbox).
        "LRS_URL": _env("COURSEWARE_LRS_URL"),
        "LRS_USER": _env("COURSEWARE_LRS_USER"),
        "LRS_PASSWORD": _env("COURSEWARE_LRS_PASSWORD"),
        "LRS_ACTOR_KEY": _env("COURSEWARE_LRS_ACTOR_KEY"),
    }


def trusted_networks(value: str | None) -> tuple[IPv4Network | IPv6Network, ...]:
    """Parse COURSEWARE_TRUSTED_PROXIES: addresses or networks, comma- or space-separated."""
    networks = []
    for item in (value or "").replace(",", " ").split():
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError as exc:
            raise RuntimeError(
                f"COURSEWARE_TRUSTED_PROXIES: {item!r} is not an address or network"
            ) from exc
    return tuple(networks)


def flask_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Flask's own keys derived from our settings."""
    https = bool(settings.get("HTTPS"))
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hant",
        "BABEL_DEFAULT_TIMEZONE": settings.get("TIMEZONE", "Asia/Taipei"),
        "RATELIMIT_STORAGE_URI": settings.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
    }
