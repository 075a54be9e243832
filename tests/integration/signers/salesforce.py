"""Salesforce outbound message: a SOAP notification naming the org in `<OrganizationId>`
(the source's secret), one `<Notification>` whose `<Id>` is the delivery id."""

from __future__ import annotations

import uuid

from tests.integration.signers import SignedRequest, Signer

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5g000000Xyz1AAC</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0</PartnerUrl>
   <Notification>
    <Id>{notification}</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{record}</sf:Id>
     <sf:Email>ada@example.com</sf:Email>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""


def sign(secret: str, url: str, now: int) -> SignedRequest:
    body = ENVELOPE.format(
        org=secret,
        notification="04l" + uuid.uuid4().hex[:15],
        record="003" + uuid.uuid4().hex[:15],
    ).encode()
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="salesforce",
        secret="00D5g000004XyZ1EAK",
        sign=sign,
        event_type="Contact",
        signs_body=False,
    ),
)
