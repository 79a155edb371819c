"""Account changes (blocking): check input, call the API, keep the service's snapshot current."""

from __future__ import annotations

from typing import Any, TypeVar

from ..api.records import FIXTURE_TYPES, PRODUCTION_TYPES, Device, DeviceGroup, Product, Resource
from .services import AccountService
from .validation import (
    check_description,
    check_device_name,
    check_env_vars,
    check_name,
    check_region,
    group_names,
    product_names,
)

R = TypeVar("R", bound=Resource)

# The type each fixture type's targets must have (§3.3.1).
FIXTURE_TARGETS = {
    "pre_factoryfixture_devicegroup": ("pre_production_devicegroup", "pre_dut_devicegroup"),
    "factoryfixture_devicegroup": ("production_devicegroup", "dut_devicegroup"),
}


class InputError(ValueError):
    """The input was refused before anything was sent; `str()` is the message for people."""


def put(items: list[R], record: R) -> list[R]:
    """A copy of `items` with `record` replacing the one of the same id (or appended)."""
    out = [record if r.id == record.id else r for r in items]
    if not any(r.id == record.id for r in items):
        out.append(record)
    return out


def drop(items: list[R], record_id: str) -> list[R]:
    return [r for r in items if r.id != record_id]


def _raise(message: str | None) -> None:
    if message:
        raise InputError(message)


def target_candidates(service: AccountService, product_id: str,
                      fixture_type: str) -> tuple[list[DeviceGroup], list[DeviceGroup]]:
    """Groups of the product that may be the production and DUT targets of a fixture type."""
    prod_type, dut_type = FIXTURE_TARGETS[fixture_type]
    groups = [g for g in service.snapshot.device_groups if g.product_id == product_id]
    return ([g for g in groups if g.type == prod_type], [g for g in groups if g.type == dut_type])


class Manager:
    """Blocking changes on behalf of the GUI; run every method off the UI thread."""

    def __init__(self, service: AccountService) -> None:
        self.service = service

    @property
    def snap(self) -> Any:
        return self.service.snapshot

    # -- products ------------------------------------------------------------------------------
    def create_product(self, name: str, description: str | None = None,
                       owner_id: str | None = None) -> Product:
        _raise(check_name(name, product_names(self.snap, owner_id)))
        _raise(check_description(description))
        product = self.service.client.create_product(name, description or None, owner_id)
        self.snap.products = put(self.snap.products, product)
        return product

    def update_product(self, product: Product, **changes: Any) -> Product:
        if "name" in changes:
            _raise(check_name(changes["name"], product_names(self.snap, product.owner_id,
                                                             product.id)))
        if "description" in changes:
            changes["description"] = changes["description"] or None
            _raise(check_description(changes["description"]))
        updated = self.service.client.update_product(product.id, **changes)
        self.snap.products = put(self.snap.products, updated)
        return updated

    # -- device groups -------------------------------------------------------------------------
    def _check_group(self, product_id: str, type_: str, attrs: dict[str, Any],
                     targets: tuple[str | None, str | None], exclude_id: str | None) -> None:
        if "name" in attrs:
            _raise(check_name(attrs["name"], group_names(self.snap, product_id, exclude_id),
                              "device group"))
        _raise(check_description(attrs.get("description")))
        if "env_vars" in attrs:
            _raise(check_env_vars(attrs["env_vars"]))
        if "region" in attrs:
            if exclude_id is not None:  # an existing group
                raise InputError("The region of a device group is set when it is created and "
                                 "cannot be changed.")
            _raise(check_region(attrs["region"], type_))
        if "load_code_after_blessing" in attrs and type_ not in PRODUCTION_TYPES:
            raise InputError("Only production and test production device groups load code "
                             "after blessing.")
        if type_ in FIXTURE_TYPES:
            prod_ok, dut_ok = target_candidates(self.service, product_id, type_)
            if targets[0] not in {g.id for g in prod_ok}:
                raise InputError("Choose a production target of the matching type in this "
                                 "product.")
            if targets[1] not in {g.id for g in dut_ok}:
                raise InputError("Choose a DUT target of the matching type in this product.")

    def create_group(self, product_id: str, type_: str, name: str,
                     description: str | None = None, *, production_target: str | None = None,
                     dut_target: str | None = None, **attributes: Any) -> DeviceGroup:
        if "region" in attributes and not attributes["region"]:
            del attributes["region"]  # "" or None: no region (the attribute is left out)
        attrs = {"name": name, "description": description or None, **attributes}
        self._check_group(product_id, type_, attrs, (production_target, dut_target), None)
        kw: dict[str, Any] = {}
        if type_ in FIXTURE_TYPES:
            prod_type, dut_type = FIXTURE_TARGETS[type_]
            kw = {"production_target": (prod_type, production_target),
                  "dut_target": (dut_type, dut_target)}
        group = self.service.client.create_device_group(
            product_id, type_, name, description or None, **kw, **attributes)
        self.snap.device_groups = put(self.snap.device_groups, group)
        return group

    def update_group(self, group: DeviceGroup, attributes: dict[str, Any],
                     production_target: str | None = None,
                     dut_target: str | None = None) -> DeviceGroup:
        attrs = dict(attributes)
        if "description" in attrs:
            attrs["description"] = attrs["description"] or None
        targets = (production_target or group.production_target_id,
                   dut_target or group.dut_target_id)
        self._check_group(group.product_id or "", group.type, attrs, targets, group.id)
        kw: dict[str, Any] = {}
        if group.type in FIXTURE_TYPES:
            prod_type, dut_type = FIXTURE_TARGETS[group.type]
            if production_target and production_target != group.production_target_id:
                kw["production_target"] = (prod_type, production_target)
            if dut_target and dut_target != group.dut_target_id:
                kw["dut_target"] = (dut_type, dut_target)
        updated = self.service.client.update_device_group(group, attrs, **kw)
        self.snap.device_groups = put(self.snap.device_groups, updated)
        return updated

    # -- devices -------------------------------------------------------------------------------
    def rename_device(self, device: Device, name: str) -> Device:
        _raise(check_device_name(name))
        updated = self.service.client.rename_device(device.id, name)
        self.snap.devices = put(self.snap.devices, updated)
        return updated

    def remove_device(self, device: Device) -> None:
        """Delete a device from the account; production devices are refused before sending."""
        if device.devicegroup_type in PRODUCTION_TYPES:
            raise InputError("Production devices cannot be removed from the account: they "
                             "belong to the product's production line (CX109).")
        self.service.client.delete_device(device.id)
        self.snap.devices = drop(self.snap.devices, device.id)
