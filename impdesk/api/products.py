"""Products (§3.2) and account-level reads (§3.1, §2.6, §2.7)."""

from __future__ import annotations

from typing import Any

from .records import Account, LoginKey, Product, RefreshTokenRecord


class ProductsMixin:
    """Product CRUD, accounts, login keys and refresh-token records."""

    def list_products(self: Any, owner_id: str | None = None, **kw: Any) -> list[Product]:
        filters = {"owner.id": owner_id} if owner_id else None
        return self.list("/products", filters, name="products", **kw)

    def get_product(self: Any, product_id: str) -> Product:
        return self.get_resource(f"/products/{product_id}")

    def create_product(self: Any, name: str, description: str | None = None,
                       owner_id: str | None = None) -> Product:
        attrs: dict[str, Any] = {"name": name}
        if description is not None:
            attrs["description"] = description
        rels = {"owner": {"type": "account", "id": owner_id}} if owner_id else None
        return self.create("/products", "product", attrs, rels)

    def update_product(self: Any, product_id: str, **attributes: Any) -> Product:
        """Change `name` and/or `description`."""
        return self.update(f"/products/{product_id}", "product", product_id, attributes)

    def delete_product(self: Any, product_id: str) -> None:
        self.request("DELETE", f"/products/{product_id}")

    # -- accounts --------------------------------------------------------------------------
    def me(self: Any) -> Account:
        return self.get_resource("/accounts/me")

    def list_accounts(self: Any, **kw: Any) -> list[Account]:
        return self.list("/accounts", name="accounts", **kw)

    def get_account(self: Any, account_id: str) -> Account:
        return self.get_resource(f"/accounts/{account_id}")

    # -- login keys (§2.6) -----------------------------------------------------------------
    def list_login_keys(self: Any) -> list[LoginKey]:
        return self.list("/accounts/me/login_keys", name="login keys")

    def get_login_key(self: Any, key_id: str) -> LoginKey:
        return self.get_resource(f"/accounts/me/login_keys/{key_id}")

    def create_login_key(self: Any, password: str, description: str | None = None) -> LoginKey:
        """Create a login key; the account password goes only into its header."""
        attrs = {"description": description} if description is not None else {}
        return self.create("/accounts/me/login_keys", "login_key", attrs,
                           headers={"X-Electricimp-Password": password})

    def update_login_key(self: Any, key_id: str, password: str,
                         description: str | None) -> LoginKey:
        return self.update(f"/accounts/me/login_keys/{key_id}", "login_key", key_id,
                           {"description": description},
                           headers={"X-Electricimp-Password": password})

    def delete_login_key(self: Any, key_id: str, password: str) -> None:
        self.request("DELETE", f"/accounts/me/login_keys/{key_id}",
                     headers={"X-Electricimp-Password": password})

    # -- refresh tokens (§2.7) ---------------------------------------------------------------
    def list_refresh_tokens(self: Any) -> list[RefreshTokenRecord]:
        return self.list("/accounts/me/refresh_tokens", name="refresh tokens")

    def delete_refresh_token(self: Any, record_id: str) -> None:
        self.request("DELETE", f"/accounts/me/refresh_tokens/{record_id}")
