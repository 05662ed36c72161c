"""Admin and finance access: bearer keys from settings, compared in constant time."""

from __future__ import annotations

from typing import Literal

from fastapi import Request

from gateway.auth import bearer_token, check_secret
from gateway.services import Services
from kernel.errors import PermissionDenied

Role = Literal["admin", "finance"]


def require_role(request: Request, services: Services, role: Role) -> None:
    """Allow the admin key for everything, and the finance key for `finance` endpoints.

    Raises `AuthenticationFailed` (401) without a bearer token and `PermissionDenied` (403)
    when the key does not grant `role` or no such key is configured.
    """
    authorization = request.headers.get("authorization")
    bearer_token(authorization)  # 401 when missing or malformed
    settings = services.settings
    admin = settings.admin_key.get_secret_value() if settings.admin_key else None
    finance = settings.finance_key.get_secret_value() if settings.finance_key else None
    if check_secret(admin, authorization):
        return
    if role == "finance" and check_secret(finance, authorization):
        return
    if admin is None and (role == "admin" or finance is None):
        raise PermissionDenied(
            f"The {role} API is disabled: set HYBRIDGW_{role.upper()}_KEY on the gateway."
        )
    raise PermissionDenied(f"This key does not grant {role} access.")
