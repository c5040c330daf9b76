-- The schema `twoway migrate` made at 5f874e2 (sqlite).
-- Captured by `python -m tests.upgrade.capture`: do not edit.

CREATE TABLE "customers" (
    "id" VARCHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "phone" VARCHAR(40),
    "metadata" JSON NOT NULL,
    "version" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
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
    "inbound_occurred_at" TIMESTAMP,
    "deleted" INT NOT NULL,
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

CREATE TABLE "stripe_links" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "entity" VARCHAR(32) NOT NULL,
    "entity_id" VARCHAR(64) NOT NULL,
    "external_id" VARCHAR(255),
    "version" INT NOT NULL,
    "deleted" INT NOT NULL,
    "metadata_keys" JSON NOT NULL,
    "from_provider" INT NOT NULL,
    "provider_email" VARCHAR(254),
    "updated_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_stripe_link_entity_663d05" UNIQUE ("entity", "entity_id")
);

CREATE INDEX "idx_inbox_receive_51baca" ON "inbox" ("received_at");

CREATE INDEX "idx_outbox_entity__f636ed" ON "outbox" ("entity_id");

CREATE INDEX "idx_outbox_publish_53b0ee" ON "outbox" ("published_at", "id");
