"""Root resolvers of the GraphQL schema; every one acts for the authenticated principal only.

graphql-core's default resolver calls ``root.<field>(info, **args)``, so each operation is a
method named after its field (camelCase, as the schema spells it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from inference_api import analytics as analytics_queries
from inference_api import flows as flow_store
from inference_api import keys as key_store
from inference_api.keys import Principal
from inference_common.clock import now_ms
from inference_common.tiers import limits_for
from inference_common.usage import ai_requests_this_month, events_this_month

# Errors whose message is meant for the client; anything else is masked as an internal error.
CLIENT_ERRORS: tuple[type[Exception], ...] = (
    GraphQLError,
    key_store.KeyInputError,
    flow_store.FlowInputError,
    analytics_queries.AnalyticsInputError,
)


@dataclass
class Context:
    env: Any
    principal: Principal

    @property
    def db(self) -> Any:
        return self.env.DB


def _ctx(info: GraphQLResolveInfo) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


class Root:
    """``root_value`` for both queries and mutations."""

    async def me(self, info: GraphQLResolveInfo) -> dict[str, Any]:
        p = _ctx(info).principal
        return {"id": p.user_id, "email": p.email, "tier": p.tier, "createdAt": p.user_created_at}

    async def apiKeys(self, info: GraphQLResolveInfo) -> list[dict[str, Any]]:  # noqa: N802
        c = _ctx(info)
        return await key_store.list_keys(c.db, c.principal.user_id)

    async def createApiKey(  # noqa: N802
        self, info: GraphQLResolveInfo, input: dict[str, Any]
    ) -> dict[str, Any]:
        c = _ctx(info)
        return await key_store.create_key(
            c.db, c.principal.user_id, input["name"], input.get("expiresInDays")
        )

    async def revokeApiKey(  # noqa: N802
        self,
        info: GraphQLResolveInfo,
        keyPrefix: str,  # noqa: N803
    ) -> dict[str, bool]:
        c = _ctx(info)
        return {"success": await key_store.revoke_key(c.db, c.principal.user_id, keyPrefix)}

    async def flows(self, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
        c = _ctx(info)
        return await flow_store.list_flows(c.db, c.principal.user_id)

    async def flow(self, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        c = _ctx(info)
        return await flow_store.get_flow(c.db, c.principal.user_id, id)

    async def createFlow(  # noqa: N802
        self, info: GraphQLResolveInfo, input: dict[str, Any]
    ) -> dict[str, Any]:
        c = _ctx(info)
        active = input.get("active")
        return await flow_store.create_flow(
            c.db,
            c.principal.user_id,
            input["name"],
            input["steps"],
            description=input.get("description"),
            ai_config=input.get("aiConfig"),
            active=True if active is None else bool(active),
        )

    async def deleteFlow(self, info: GraphQLResolveInfo, id: str) -> dict[str, bool]:  # noqa: N802
        c = _ctx(info)
        return {"success": await flow_store.delete_flow(c.db, c.principal.user_id, id)}

    async def analytics(
        self,
        info: GraphQLResolveInfo,
        startDate: int,  # noqa: N803
        endDate: int,  # noqa: N803
        userId: str | None = None,  # noqa: N803
        metrics: list[str] | None = None,
        groupBy: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        c = _ctx(info)
        if userId is not None and userId != c.principal.user_id:
            raise GraphQLError("You can only read your own analytics (userId must be your own id)")
        return await analytics_queries.analytics(
            c.db, c.principal.user_id, startDate * 1000, endDate * 1000 + 999, metrics, groupBy
        )

    async def usageMetrics(self, info: GraphQLResolveInfo) -> dict[str, Any]:  # noqa: N802
        c = _ctx(info)
        p = c.principal
        now = now_ms()
        limits = limits_for(p.tier, c.env)
        return {
            "userId": p.user_id,
            "tier": p.tier,
            "eventsThisMonth": await events_this_month(c.db, p.user_id, now),
            "eventsLimit": limits.events_per_month,
            "aiRequestsThisMonth": await ai_requests_this_month(c.db, p.user_id, now),
            "aiRequestsLimit": limits.ai_requests_per_month,
        }
