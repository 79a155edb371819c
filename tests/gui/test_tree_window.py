"""The account tree window against the emulator: load, tree contents, details."""

from __future__ import annotations

from impdesk.core.tree import DEVICE, GROUP, PRODUCT, UNASSIGNED_KEY


def test_tree_matches_emulator_data(make_window, emu):
    window = make_window()
    model = window.model
    products = emu.list_all("/products")
    groups = emu.list_all("/devicegroups")
    devices = emu.list_all("/devices")
    assert {k[1] for k in model.nodes if k[0] == PRODUCT} == {p["id"] for p in products}
    assert {k[1] for k in model.nodes if k[0] == GROUP} == {g["id"] for g in groups}
    assert {k[1] for k in model.nodes if k[0] == DEVICE} == {d["id"] for d in devices}
    for device in devices:
        node = model.nodes[(DEVICE, device["id"])]
        group = device["relationships"].get("devicegroup")
        assert node.parent.key == ((GROUP, group["id"]) if group else UNASSIGNED_KEY)
