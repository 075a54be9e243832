"""Salesforce outbound messages: SOAP notifications proven only by the organization id.

Salesforce signs nothing; the message names its org in `<OrganizationId>` (18 chars, or
15 in old setups; the first 15 identify the org), so the source's secret is that id and
the endpoint must be HTTPS. Salesforce resends until it gets the SOAP acknowledgement.

defusedxml is not installed, so entity tricks are shut out before parsing instead: only
strict UTF-8 without NUL bytes is parsed (no UTF-16/32 smuggling), and a body with a
DOCTYPE or ENTITY declaration is refused; without them expat expands no entities.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    matches_any,
    no_challenge,
    utf8,
)

ORG_ID_LENGTH = 15
DEFAULT_TYPE = "outbound_message"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack>"
    b"</notificationsResponse>"
    b"</soapenv:Body>"
    b"</soapenv:Envelope>"
)


class Salesforce:
    name = "salesforce"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        root = parse(request.body)
        org_id = _text(_first(root, "OrganizationId"))
        if len(org_id) < ORG_ID_LENGTH:
            raise Refused("missing OrganizationId")
        presented = utf8(org_id[:ORG_ID_LENGTH])
        expected = [utf8(secret[:ORG_ID_LENGTH]) for secret in source.secrets]
        if not matches_any([presented], expected):
            raise Refused("OrganizationId mismatch")
        notification = _first(root, "Notification")
        sobject = _first(notification, "sObject") if notification is not None else None
        xsi_type = sobject.get(XSI_TYPE, "") if sobject is not None else ""
        kind = xsi_type.rpartition(":")[2] or DEFAULT_TYPE
        delivery = _text(_first(notification, "Id")) if notification is not None else ""
        return Accepted(kind, delivery, reply=Reply(200, ACK, "text/xml"))


def parse(body: bytes) -> ET.Element:
    """The SOAP body as a tree, refusing anything that could declare entities."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("body is not UTF-8") from None
    if "\x00" in text:
        raise Refused("body holds NUL bytes")
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise Refused("body declares a DOCTYPE or entities")
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        raise Refused("body is not XML") from None


def _first(parent: ET.Element, local_name: str) -> ET.Element | None:
    """The first descendant with this local name, whatever its namespace."""
    for element in parent.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if element is not parent and tag.rpartition("}")[2] == local_name:
            return element
    return None


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


PROVIDERS: tuple[Provider, ...] = (Salesforce(),)
