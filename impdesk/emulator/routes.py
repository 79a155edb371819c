"""The /v5 route table: each resource module registers its endpoints."""

from __future__ import annotations

from .framework import Router
from .v5 import (
    accounts,
    assignment,
    auth,
    deployments,
    devicegroups,
    devices,
    logstreams,
    products,
    webhooks,
)

MODULES = (auth, accounts, products, devicegroups, assignment, devices, deployments, logstreams,
           webhooks)


def register(router: Router) -> None:
    for module in MODULES:
        module.register(router)
