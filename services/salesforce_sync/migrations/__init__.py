"""The Salesforce worker's own tables' schema history."""

APP = "salesforce"
