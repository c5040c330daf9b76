"""The fake org's identity and settings (kept by ``/_fake/reset``)."""

from __future__ import annotations

from dataclasses import dataclass

CLIENT_ID = "twoway-fake-salesforce-client"
CLIENT_SECRET = "twoway-fake-salesforce-secret"
ORG_ID = "00DFAKE0000000001A"
INTEGRATION_USER_ID = "005INTEGRATION000A"
"""The user the client credentials flow runs as: every API write is this user's."""
HUMAN_USER_ID = "005HUMANUSER00000A"
"""The user of the control routes' edits (someone in Salesforce's UI)."""
EXTERNAL_ID_FIELD = "Twoway_Id__c"
ALLOCATION = 15_000  # Developer Edition's daily API allocation
API_VERSION = "60.0"


@dataclass
class FakeConfig:
    base_url: str = "http://127.0.0.1"
    """This fake's own address: the token's ``instance_url`` and the SOAP URLs."""
    outbound_url: str | None = None
    """Where Outbound Messages go; None: no outbound message is configured (none queued)."""
    org_id: str = ORG_ID
    external_id_field: str = EXTERNAL_ID_FIELD
    external_id_unique: bool = True
    """False lets two Contacts share an External ID value (then upsert answers 300)."""
    allocation: int = ALLOCATION
    retry_initial_s: float = 0.1
    retry_max_s: float = 1.0
    outbound_timeout_s: float = 10.0
    clock_ahead_s: float = 0.0
    """How far the org's clock (its stamps) runs ahead of this machine's; negative: behind."""
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    integration_user_id: str = INTEGRATION_USER_ID
    human_user_id: str = HUMAN_USER_ID

    def public(self) -> dict[str, object]:
        return {
            "url": self.base_url,
            "outbound_url": self.outbound_url,
            "org_id": self.org_id,
            "external_id_field": self.external_id_field,
            "external_id_unique": self.external_id_unique,
            "allocation": self.allocation,
            "retry_initial_s": self.retry_initial_s,
            "retry_max_s": self.retry_max_s,
            "outbound_timeout_s": self.outbound_timeout_s,
            "clock_ahead_s": self.clock_ahead_s,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "integration_user_id": self.integration_user_id,
            "human_user_id": self.human_user_id,
        }
