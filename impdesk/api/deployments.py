"""Deployments (§3.5) and webhooks (§3.7)."""

from __future__ import annotations

from typing import Any

from .records import Deployment, Webhook, record_from_json

DEPLOY_TIMEOUT = (3.05, 90.0)  # the service compiles the code before it answers


class DeploymentsMixin:
    """Deployment and webhook operations."""

    def list_deployments(self: Any, *, group_id: str | None = None,
                         product_id: str | None = None, flagged: bool | None = None,
                         sha: str | None = None, tags: list[str] | None = None,
                         **kw: Any) -> list[Deployment]:
        filters: dict[str, str] = {}
        if group_id:
            filters["devicegroup.id"] = group_id
        if product_id:
            filters["product.id"] = product_id
        if flagged is not None:
            filters["flagged"] = "true" if flagged else "false"
        if sha:
            filters["sha"] = sha
        if tags:
            filters["tags"] = ",".join(tags)
        items = self.list("/deployments", filters or None, name="deployments", **kw)
        # Newest first, whatever order concurrent page fetching produced.
        return sorted(items, key=lambda d: d.attributes.get("created_at") or "", reverse=True)

    def get_deployment(self: Any, deployment_id: str) -> Deployment:
        return self.get_resource(f"/deployments/{deployment_id}")

    def create_deployment(self: Any, group_type: str, group_id: str, *, device_code: str,
                          agent_code: str, description: str | None = None,
                          origin: str | None = "impdesk", tags: list[str] | None = None,
                          flagged: bool = False) -> Deployment:
        """Deploy code to a group. Never retried blindly: a lost answer may mean it exists.

        Raises:
            CompileError: the code does not compile; `.items` gives file/row/column/text.
        """
        attrs: dict[str, Any] = {"device_code": device_code, "agent_code": agent_code,
                                 "flagged": flagged, "tags": list(tags or [])}
        if description is not None:
            attrs["description"] = description
        if origin is not None:
            attrs["origin"] = origin
        doc = self.request("POST", "/deployments", json={"data": {
            "type": "deployment", "attributes": attrs,
            "relationships": {"devicegroup": {"type": group_type, "id": group_id}}}},
            retry=False, timeout=DEPLOY_TIMEOUT)
        data = doc["data"]
        record = record_from_json(data)
        meta = data.get("meta") if isinstance(data, dict) else None
        if isinstance(meta, list):  # compiler warnings of a real service (§3.5.2)
            record.attributes["_warnings"] = meta
        return record

    def update_deployment(self: Any, deployment_id: str, **attributes: Any) -> Deployment:
        """Change `description`, `flagged` and/or `tags`."""
        return self.update(f"/deployments/{deployment_id}", "deployment", deployment_id,
                           attributes)

    def delete_deployment(self: Any, deployment_id: str) -> None:
        self.request("DELETE", f"/deployments/{deployment_id}")

    # -- webhooks ---------------------------------------------------------------------------
    def list_webhooks(self: Any, group_id: str | None = None) -> list[Webhook]:
        filters = {"devicegroup.id": group_id} if group_id else None
        return self.list("/webhooks", filters, name="webhooks")

    def get_webhook(self: Any, webhook_id: str) -> Webhook:
        return self.get_resource(f"/webhooks/{webhook_id}")

    def create_webhook(self: Any, group_type: str, group_id: str, url: str, event: str,
                       content_type: str = "application/json") -> Webhook:
        return self.create("/webhooks", "webhook",
                           {"url": url, "event": event, "content_type": content_type},
                           {"devicegroup": {"type": group_type, "id": group_id}})

    def update_webhook(self: Any, webhook_id: str, **attributes: Any) -> Webhook:
        """Change `url` and/or `content_type`."""
        return self.update(f"/webhooks/{webhook_id}", "webhook", webhook_id, attributes)

    def delete_webhook(self: Any, webhook_id: str) -> None:
        self.request("DELETE", f"/webhooks/{webhook_id}")
