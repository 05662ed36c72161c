"""GET /admin/reports — the savings report as JSON or CSV (admin or finance key)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from gateway.api.deps import ServicesDep
from gateway.api.roles import require_role
from gateway.reports.build import build_report, window
from kernel.errors import InvalidRequest
from kernel.reporting import GroupBy

router = APIRouter()


@router.get("/admin/reports")
async def reports(
    request: Request,
    services: ServicesDep,
    since: Annotated[str | None, Query(description="YYYY-MM-DD or ISO datetime.")] = None,
    until: Annotated[
        str | None, Query(description="YYYY-MM-DD (inclusive) or ISO datetime.")
    ] = None,
    group_by: GroupBy = "day",
    tenant: Annotated[str | None, Query(description="Only this tenant's requests.")] = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Requests, tokens, cost, counterfactual cost, savings, local share and latency per group."""
    require_role(request, services, "finance")
    try:
        start, end = window(since, until)
    except ValueError as exc:
        raise InvalidRequest(f"Bad report window: {exc}") from None
    report = await build_report(
        services.ledger,
        since=start,
        until=end,
        group_by=group_by,
        tenant=tenant or None,
        reference_estimate_ms=services.settings.reference_latency_estimate_ms,
    )
    if format == "csv":
        name = f"hybridgw-report-{group_by}-{start.date()}-{end.date()}.csv"
        return Response(
            report.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(report.to_json(), headers={"cache-control": "no-store"})
