"""The JSON examples of the Twyn docs, exactly as the API reference gives them."""

from __future__ import annotations

from typing import Any

CREATED: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "status": "PENDING",
    "title": "Price Increase Churn Impact Analysis",
    "prompt": "...",
    "tags": [],
    "tenant_id": "your-tenant-id",
    "created_at": "2025-11-24T01:00:00Z",
    "updated_at": "2025-11-24T01:00:00Z",
    "lifecycle": {"states": [{"name": "PENDING", "at": "2025-11-24T01:00:00Z"}]},
}

# The docs' quickstart shows an abbreviated in-progress answer: only id, status, lifecycle.
IN_PROGRESS: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "status": "PROCESSING_SIMULATION",
    "lifecycle": {
        "states": [
            {"name": "PENDING", "at": "2025-11-24T01:00:00Z"},
            {"name": "PROCESSING_CONFIG", "at": "2025-11-24T01:00:01Z"},
            {"name": "COMPLETED_CONFIG", "at": "2025-11-24T01:01:30Z"},
            {"name": "PROCESSING_SIMULATION", "at": "2025-11-24T01:01:31Z"},
        ]
    },
}

# The docs' status example: a full run of 5 min 45 s.
COMPLETED_STATES = [
    {"name": "PENDING", "at": "2025-11-24T01:00:00Z"},
    {"name": "PROCESSING_CONFIG", "at": "2025-11-24T01:00:01Z"},
    {"name": "COMPLETED_CONFIG", "at": "2025-11-24T01:01:30Z"},
    {"name": "PROCESSING_SIMULATION", "at": "2025-11-24T01:01:31Z"},
    {"name": "COMPLETED_SIMULATION", "at": "2025-11-24T01:04:15Z"},
    {"name": "PROCESSING_ANALYSIS", "at": "2025-11-24T01:04:16Z"},
    {"name": "COMPLETED_ANALYSIS", "at": "2025-11-24T01:05:45Z"},
]

RESULTS: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "status": "COMPLETED_ANALYSIS",
    "config": {"step_unit": "week", "number_of_steps": 24, "agent_groups": []},
    "metrics": {
        "by_group": [
            {
                "group_id": "customers",
                "timeline": [
                    {"step": 0, "variables": {"satisfaction": 0.75}, "actions": {"churn": 0.02}},
                    {"step": 1, "variables": {"satisfaction": 0.68}, "actions": {"churn": 0.05}},
                ],
            }
        ]
    },
    "analysis": {
        "executive_summary": "...",
        "key_drivers": ["..."],
        "risks": ["..."],
        "recommendations": ["..."],
        "report_markdown": "# Full Analysis Report\n\n...",
    },
}

CONFIG: dict[str, Any] = {
    "step_unit": "week",
    "number_of_steps": 24,
    "agent_groups": [
        {
            "id": "customers",
            "name": "Customers",
            "description": "SaaS customers",
            "number_of_agents": 1000,
            "variables": {"satisfaction": {"type": "normal", "mean": 0.75, "std": 0.15}},
            "actions": {"churn": {"type": "binary", "description": "Cancel subscription"}},
        }
    ],
}

LIST_PAGE: dict[str, Any] = {"items": [CREATED], "total": 145, "limit": 20, "offset": 0}

SCENARIO: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "tenant_id": "your-tenant",
    "name": "Q4 2025 Pricing Strategy",
    "description": "Testing various pricing scenarios for Q4 rollout",
    "created_at": "2025-11-24T01:00:00Z",
    "updated_at": "2025-11-24T01:00:00Z",
}

ERRORS: dict[int, dict[str, Any]] = {
    401: {"detail": "Invalid or missing API key"},
    403: {"detail": "Access denied: simulation belongs to different tenant"},
    404: {"detail": "Simulation with ID abc123 not found"},
    409: {
        "error": "SIMULATION_NOT_COMPLETE",
        "message": "Simulation is still running",
        "status": "PROCESSING_SIMULATION",
    },
    422: {
        "detail": [
            {"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}
        ]
    },
    429: {
        "error": "RATE_LIMIT_EXCEEDED",
        "message": "Rate limit exceeded. Try again in 45 minutes.",
        "retry_after": 2700,
    },
}

RATE_HEADERS = {
    "X-RateLimit-Limit": "1000",
    "X-RateLimit-Remaining": "950",
    "X-RateLimit-Reset": "1700000000",
}
