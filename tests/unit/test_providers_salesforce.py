"""Salesforce outbound-message provider: org id check, type, ack reply and XML safety."""

from __future__ import annotations

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.salesforce import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
ORG_18 = "00D5g000004XyZ1EAK"
ORG_15 = ORG_18[:15]
OTHER_ORG = "00D5g000009AbCdEAK"
NOTIFICATION_ID = "04l5g00000AbCdEFGH"
ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5g000000Xyz1AAC</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0/00D5g</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0/00D5g</PartnerUrl>
   <Notification>
    <Id>{nid}</Id>
    {sobject}
   </Notification>
   <Notification>
    <Id>04l5g00000ZZZZZZZZ</Id>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""
CONTACT = (
    '<sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
    "<sf:Id>0035g00000AbCdEAAA</sf:Id><sf:Email>ada@example.com</sf:Email></sObject>"
)
ACK = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<notifications><OrganizationId>&lol2;</OrganizationId></notifications>"""


def envelope(org: str = ORG_18, sobject: str = CONTACT, nid: str = NOTIFICATION_ID) -> bytes:
    return ENVELOPE.format(org=org, sobject=sobject, nid=nid).encode()


def request(body: bytes) -> InboundRequest:
    return inbound_request({"Content-Type": "text/xml; charset=utf-8"}, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("salesforce", *(secrets or (ORG_18,)))


def test_accepts_message_with_sobject_type_notification_id_and_soap_ack() -> None:
    accepted = PROVIDER.authenticate(request(envelope()), source(), 0)
    assert accepted.event_type == "Contact"
    assert accepted.delivery_id == NOTIFICATION_ID
    assert accepted.publish
    assert accepted.reply is not None
    assert accepted.reply.status == 200
    assert accepted.reply.content_type == "text/xml"
    assert ACK in accepted.reply.body
    assert PROVIDER.name == "salesforce"
    assert PROVIDER.methods == frozenset({"POST"})


def test_without_sobject_type_it_is_an_outbound_message() -> None:
    accepted = PROVIDER.authenticate(request(envelope(sobject="")), source(), 0)
    assert accepted.event_type == "outbound_message"


@pytest.mark.parametrize(("secret", "sent"), [(ORG_15, ORG_18), (ORG_18, ORG_15), (ORG_15, ORG_15)])
def test_org_ids_compare_on_15_characters(secret: str, sent: str) -> None:
    assert (
        PROVIDER.authenticate(request(envelope(org=sent)), source(secret), 0).event_type
        == "Contact"
    )


def test_wrong_org_refused() -> None:
    with pytest.raises(Refused, match="OrganizationId mismatch"):
        PROVIDER.authenticate(request(envelope(org=OTHER_ORG)), source(), 0)


def test_org_differing_in_its_first_15_characters_refused() -> None:
    with pytest.raises(Refused, match="OrganizationId mismatch"):
        PROVIDER.authenticate(request(envelope(org="10D5g000004XyZ1EAK")), source(), 0)


def test_any_current_org_accepted_during_rotation() -> None:
    rotating = source(OTHER_ORG, ORG_18)
    for org in (OTHER_ORG, ORG_18):
        assert PROVIDER.authenticate(request(envelope(org=org)), rotating, 0).publish


@pytest.mark.parametrize("org", ["", "00D5g", "   "])
def test_missing_or_short_org_refused(org: str) -> None:
    with pytest.raises(Refused, match="missing OrganizationId"):
        PROVIDER.authenticate(request(envelope(org=org)), source(), 0)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "DOCTYPE"),
        (b'<?xml version="1.0"?><!doctype x SYSTEM "file:///etc/passwd"><x/>', "DOCTYPE"),
        (envelope().decode().encode("utf-16"), "not UTF-8"),
        (envelope().decode().encode("utf-16-le"), "NUL"),
        (b"\xff\xfe<x/>", "not UTF-8"),
        (b"not xml at all", "not XML"),
        (b"<a><b></a>", "not XML"),
        (b"", "not XML"),
    ],
)
def test_unsafe_or_malformed_bodies_only_refused(body: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        PROVIDER.authenticate(request(body), source(), 0)
