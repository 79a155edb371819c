"""impdesk.api: a Qt-free client for the impCentral API v5 (`from impdesk.api import Client`)."""

from .auth import InsecureEndpointError, MemoryTokenStore, TokenStore
from .client import Client
from .device_groups import BulkResult
from .errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    BadRequest,
    CompileError,
    Conflict,
    InvalidOtp,
    NotFound,
    OtpRequired,
    PermissionDenied,
    RateLimited,
    ResponseParseError,
    ServerError,
    ValidationError,
)
from .logstreams import LogStreamReader
from .records import (
    Account,
    Deployment,
    Device,
    DeviceGroup,
    LogEntry,
    LoginKey,
    Product,
    Webhook,
)
from .snapshot import Snapshot

__all__ = [
    "Account", "ApiConnectionError", "ApiError", "AuthenticationError", "BadRequest",
    "BulkResult", "Client", "CompileError", "Conflict", "Deployment", "Device", "DeviceGroup",
    "InsecureEndpointError", "InvalidOtp", "LogEntry", "LogStreamReader", "LoginKey",
    "MemoryTokenStore", "NotFound", "OtpRequired", "PermissionDenied", "Product", "RateLimited",
    "ResponseParseError", "ServerError", "Snapshot", "TokenStore", "ValidationError", "Webhook",
]
