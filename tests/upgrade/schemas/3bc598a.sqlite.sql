-- The schema `twoway migrate` made at 3bc598a (sqlite).
-- Captured by `python -m tests.upgrade.capture`: do not edit.

CREATE TABLE "api_keys" (
    "id" VARCHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL,
    "scope" VARCHAR(10) NOT NULL,
    "prefix" VARCHAR(12) NOT NULL,
    "key_hash" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL,
    "revoked_at" TIMESTAMP
);

CREATE TABLE "conflicts" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "entity_id" VARCHAR(64) NOT NULL,
    "provider" VARCHAR(32) NOT NULL,
    "path" VARCHAR(255) NOT NULL,
    "app_value" TEXT NOT NULL,
    "provider_value" TEXT NOT NULL,
    "app_changed_at" TIMESTAMP NOT NULL,
    "provider_changed_at" TIMESTAMP NOT NULL,
    "winner" VARCHAR(16) NOT NULL,
    "rule" VARCHAR(16) NOT NULL,
    "provider_event_id" VARCHAR(255) NOT NULL,
    "resolved_at" TIMESTAMP NOT NULL
);

CREATE TABLE "customers" (
    "id" VARCHAR(36) NOT NULL PRIMARY KEY,
    "version" INT NOT NULL,
    "field_clock" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "phone" VARCHAR(40),
    "metadata" JSON NOT NULL
);

CREATE TABLE "external_links" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "entity_id" VARCHAR(64),
    "provider" VARCHAR(32) NOT NULL,
    "external_id" VARCHAR(255),
    "status" VARCHAR(16) NOT NULL,
    "synced_version" INT,
    "last_error" TEXT,
    "note" TEXT,
    "inbound_occurred_at" TIMESTAMP,
    "deleted" INT NOT NULL,
    "shadow" JSON NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_external_li_entity_6d46fb" UNIQUE ("entity", "entity_id", "provider"),
    CONSTRAINT "uid_external_li_provide_edd12f" UNIQUE ("provider", "entity", "external_id")
);

CREATE TABLE "inbox" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "provider" VARCHAR(32) NOT NULL,
    "event_id" VARCHAR(255) NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "external_id" VARCHAR(255) NOT NULL,
    "entity_id" VARCHAR(64),
    "occurred_at" TIMESTAMP NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "payload" TEXT NOT NULL,
    "received_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_inbox_provide_0e831c" UNIQUE ("provider", "event_id")
);

CREATE TABLE "outbox" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "event_id" VARCHAR(36) NOT NULL UNIQUE,
    "routing_key" VARCHAR(100) NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "entity_id" VARCHAR(64) NOT NULL,
    "version" INT NOT NULL,
    "payload" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "published_at" TIMESTAMP
);

CREATE TABLE "products" (
    "id" VARCHAR(36) NOT NULL PRIMARY KEY,
    "version" INT NOT NULL,
    "field_clock" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(250) NOT NULL,
    "description" TEXT,
    "active" INT NOT NULL,
    "metadata" JSON NOT NULL,
    "unit_label" VARCHAR(12)
);

CREATE TABLE "reconcile_runs" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "provider" VARCHAR(32) NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "phase" VARCHAR(16) NOT NULL,
    "cursor" TEXT,
    "push_cursor" VARCHAR(64),
    "counts" JSON NOT NULL,
    "notes" JSON NOT NULL,
    "started_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "finished_at" TIMESTAMP
);

CREATE TABLE "repair_cursors" (
    "name" VARCHAR(100) NOT NULL PRIMARY KEY,
    "cursor" TEXT,
    "cursor_at" TIMESTAMP,
    "passes" INT NOT NULL,
    "info" JSON NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);

CREATE TABLE "salesforce_links" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "entity_id" VARCHAR(64) NOT NULL,
    "external_id" VARCHAR(255),
    "version" INT NOT NULL,
    "deleted" INT NOT NULL,
    "field_versions" JSON NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_salesforce__entity_c5e5eb" UNIQUE ("entity", "entity_id")
);

CREATE TABLE "stripe_links" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "entity_id" VARCHAR(64) NOT NULL,
    "external_id" VARCHAR(255),
    "version" INT NOT NULL,
    "deleted" INT NOT NULL,
    "field_versions" JSON NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_stripe_link_entity_663d05" UNIQUE ("entity", "entity_id")
);

CREATE INDEX "idx_conflicts_entity_293bab" ON "conflicts" ("entity", "entity_id");

CREATE INDEX "idx_conflicts_resolve_476cd8" ON "conflicts" ("resolved_at");

CREATE INDEX "idx_inbox_receive_51baca" ON "inbox" ("received_at");

CREATE INDEX "idx_outbox_entity__f636ed" ON "outbox" ("entity_id");

CREATE INDEX "idx_outbox_publish_53b0ee" ON "outbox" ("published_at", "id");

CREATE INDEX "idx_reconcile_r_provide_5d60ba" ON "reconcile_runs" ("provider", "entity", "status");
