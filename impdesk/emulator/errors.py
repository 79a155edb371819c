"""The impCentral error catalogue (§4.4) and the exception that carries one error document."""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, title, default detail)
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "VX100": (400, "Malformed Request Body", "The request body is not valid JSON."),
    "VX101": (400, "Invalid Document", "The request body must be a JSON object whose data member "
              "is a resource object."),
    "VX102": (400, "Invalid Type", "The type '{sent}' is not valid here; expected '{expected}'."),
    "VX103": (400, "Missing Attribute", "The attribute '{name}' is required."),
    "VX104": (400, "Invalid Attribute", "The attribute '{name}' is not allowed here or has an "
              "invalid value."),
    "VX105": (400, "Invalid Name", "Names must be 1 to 80 characters long and not blank."),
    "VX106": (400, "Invalid Description", "Descriptions must be at most 255 characters long."),
    "VX107": (400, "Invalid Relationship", "The relationship '{name}' is missing, not allowed here "
              "or points at a resource of the wrong type."),
    "VX108": (400, "Invalid Filter", "The filter '{key}' is not supported by this endpoint."),
    "VX109": (400, "Invalid Query Parameter", "'{param}' must be a whole number of at least 1."),
    "VX110": (400, "Invalid URL", "The provided URL is invalid."),
    "VX111": (400, "Invalid Tags", "Tags may contain only letters, digits, '_', '-', '*' and '.', "
              "and may total at most 500 characters."),
    "VX112": (400, "Invalid Environment Variables", "env_vars keys must start with a letter and "
              "contain only letters, digits and '_' (at most 64); values must be strings or "
              "numbers; at most 16 KiB in all."),
    "VX113": (400, "Invalid Webhook Event", "The event '{event}' is not available for "
              "devicegroups of type '{type}'."),
    "VX120": (405, "Method Not Allowed", "{method} is not allowed on {path}."),
    "NF100": (404, "Resource Not Found", "The {type} '{id}' was not found."),
    "NF101": (404, "Related Resource Not Found", "The {name} '{id}' referenced in the request was "
              "not found."),
    "NF102": (404, "Route Not Found", "No endpoint matches {method} {path}."),
    "NF103": (404, "Credential Not Found", "The refresh token or login key was not found."),
    "NF104": (404, "Device Not In Devicegroup", "The device '{id}' is not assigned to this "
              "devicegroup."),
    "PX100": (401, "Invalid Credentials", "The identifier or password is incorrect."),
    "PX101": (401, "Access Token Expired", "The access token has expired."),
    "PX200": (403, "Two-Factor Authentication Required", "A one-time password is required to "
              "complete the login."),
    "PX201": (401, "Invalid OTP", "The one-time password is missing or incorrect."),
    "PX202": (401, "Invalid Login Token", "The login token is invalid or has expired; log in "
              "again."),
    "PX203": (403, "Invalid Password", "The X-Electricimp-Password header is missing or "
              "incorrect."),
    "PX300": (403, "Invalid Permission", "Production device group types require a commercial "
              "account."),
    "PX301": (403, "Invalid Unbond Key", "Removing devices from a production devicegroup requires "
              "the account's unbond key in the X-Electricimp-Key header."),
    "PX400": (429, "Rate Limit Exceeded", "Too many requests; retry after {n} second(s)."),
    "CX005": (400, "Compilation Error", "The code could not be compiled."),
    "CX100": (409, "Duplicate Resource", "Products must have unique names."),
    "CX101": (409, "Duplicate Resource", "Devicegroups must have unique names."),
    "CX102": (409, "Dependent Devicegroups Exist", "Cannot delete a product with associated "
              "devicegroups."),
    "CX103": (409, "Dependent Devices Exist", "Cannot delete a devicegroup with assigned devices."),
    "CX104": (409, "Devicegroup Is A Target", "Cannot delete a devicegroup that is the "
              "production_target or dut_target of another devicegroup."),
    "CX105": (409, "Resource Flagged", "You cannot delete flagged deployments; set the flagged "
              "attribute to false and try again."),
    "CX106": (409, "Deployment Protected", "You cannot delete a deployment that is its "
              "devicegroup's min_supported_deployment or newer."),
    "CX107": (409, "Device Not Assigned", "Cannot restart a device that is not assigned to a "
              "devicegroup."),
    "CX108": (409, "Device Assigned", "Cannot delete a device that is assigned to a devicegroup; "
              "unassign it first."),
    "CX109": (409, "Production Device", "Production devices cannot be deleted."),
    "CX110": (409, "Invalid Assignment", "Devices enter (pre-)production and (pre-)DUT "
              "devicegroups only through the factory process."),
    "CX111": (409, "Production Device", "A production device can only move to another "
              "devicegroup of the same type in the same product; unassign it with the unbond "
              "key first."),
    "CX112": (409, "Unsupported Device", "imp001 devices cannot be assigned to factory fixture "
              "devicegroups."),
    "CX113": (409, "Invalid Min Supported Deployment", "The min_supported_deployment cannot be "
              "older than the current one."),
    "CX114": (409, "Invalid Min Supported Deployment", "The deployment does not belong to this "
              "devicegroup."),
    "CX115": (409, "Login Key Limit Reached", "An account can have at most {n} login keys."),
    "XX500": (500, "Internal Server Error", "An unexpected error occurred."),
    "XX502": (502, "Bad Gateway", "The service is temporarily unavailable."),
    "XX503": (503, "Service Unavailable", "The service is temporarily unavailable."),
    "XX504": (504, "Gateway Timeout", "The service did not respond in time."),
}

# Alternative detail texts named by the catalogue.
DETAIL_TOKEN_REQUIRED = "An access token is required."
DETAIL_TOKEN_INVALID = "The access token is invalid."
DETAIL_DOC_IDENTIFIERS = ("The request body must be a JSON object whose data member is an array "
                          "of device identifiers.")
DETAIL_FILTER_VALUE = "The value '{value}' is not valid for filter '{key}'."
DETAIL_FORMAT = "'{param}' must be one of text, json."
DETAIL_PRODUCT_OWNER = "You cannot create products for this account."
DETAIL_GROUP_FLAGGED = ("You cannot delete a devicegroup with flagged deployments; set the flagged "
                        "attribute to false and try again.")

STATUS_CODES = {500: "XX500", 502: "XX502", 503: "XX503", 504: "XX504", 429: "PX400", 401: "PX101"}


def error_object(code: str, detail: str | None = None, meta: Any = None, **fmt: Any) -> dict:
    """Build one JSON:API error object of the catalogue, formatting its detail with `fmt`."""
    status, title, default = CATALOGUE[code]
    text = detail if detail is not None else default
    if fmt:
        text = text.format(**fmt)
    obj: dict[str, Any] = {"status": str(status), "code": code, "title": title, "detail": text}
    if meta is not None:
        obj["meta"] = meta
    return obj


class ApiError(Exception):
    """An error answer: one catalogue error (or several, for multi-device results)."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        meta: Any = None,
        headers: dict[str, str] | None = None,
        errors: list[dict] | None = None,
        status: int | None = None,
        **fmt: Any,
    ) -> None:
        self.errors = errors or [error_object(code, detail, meta, **fmt)]
        self.status = status if status is not None else CATALOGUE[code][0]
        self.code = code
        self.headers = headers or {}
        super().__init__(f"{self.status} {code}")

    def document(self) -> dict:
        return {"errors": self.errors}
