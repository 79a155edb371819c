"""Assignment rules checked before anything is sent (contract §3.3.9, §3.3.10)."""

from __future__ import annotations

from dataclasses import dataclass

from ..api.records import DUT_TYPES, FIXTURE_TYPES, PRODUCTION_TYPES, Device, DeviceGroup


@dataclass(frozen=True)
class Verdict:
    """Whether a device may go somewhere, why not, and whether the unbond key is needed."""

    allowed: bool
    reason: str = ""
    needs_unbond_key: bool = False
    no_op: bool = False


def check_move(device: Device, source: DeviceGroup | None, target: DeviceGroup | None) -> Verdict:
    """May `device` (now in `source`, None = unassigned) go to `target` (None = unassign)?"""
    if (source.id if source else None) == (target.id if target else None):
        return Verdict(False, "The device is already there.", no_op=True)
    if target is None:
        assert source is not None
        return Verdict(True, needs_unbond_key=source.type == "production_devicegroup")
    if target.type in DUT_TYPES:
        return Verdict(False, "Devices enter DUT device groups only through factory BlinkUp.")
    same_kind = (source is not None and source.type == target.type
                 and source.product_id == target.product_id)
    if target.type in PRODUCTION_TYPES and not same_kind:
        return Verdict(False, "Devices enter (pre-)production device groups only by blessing, "
                              "or from another group of the same type in the same product.")
    if source is not None and source.type in PRODUCTION_TYPES and not same_kind:
        return Verdict(False, "A production device can only move to another device group of the "
                              "same type in the same product; unassign it first.")
    if target.type in FIXTURE_TYPES and device.imp_type == "imp001":
        return Verdict(False, "imp001 devices cannot join factory fixture device groups.")
    return Verdict(True)
