-- The schema `twoway migrate` made at 5f874e2 (mysql).
-- Captured by `python -m tests.upgrade.capture`: do not edit.

CREATE TABLE `customers` (
  `id` varchar(36) NOT NULL,
  `name` varchar(200) NOT NULL,
  `email` varchar(254) NOT NULL,
  `phone` varchar(40) DEFAULT NULL,
  `metadata` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`metadata`)),
  `version` int(11) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `external_links` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `entity` varchar(32) NOT NULL,
  `entity_id` varchar(64) DEFAULT NULL,
  `provider` varchar(32) NOT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `synced_version` int(11) DEFAULT NULL,
  `last_error` longtext DEFAULT NULL,
  `inbound_occurred_at` datetime(6) DEFAULT NULL,
  `deleted` tinyint(1) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uid_external_li_entity_6d46fb` (`entity`,`entity_id`,`provider`),
  UNIQUE KEY `uid_external_li_provide_edd12f` (`provider`,`entity`,`external_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `inbox` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `provider` varchar(32) NOT NULL,
  `event_id` varchar(255) NOT NULL,
  `entity` varchar(32) NOT NULL,
  `external_id` varchar(255) NOT NULL,
  `entity_id` varchar(64) DEFAULT NULL,
  `occurred_at` datetime(6) NOT NULL,
  `outcome` varchar(16) NOT NULL,
  `payload` longtext NOT NULL,
  `received_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uid_inbox_provide_0e831c` (`provider`,`event_id`),
  KEY `idx_inbox_receive_51baca` (`received_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `outbox` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `event_id` varchar(36) NOT NULL,
  `routing_key` varchar(100) NOT NULL,
  `entity` varchar(32) NOT NULL,
  `entity_id` varchar(64) NOT NULL,
  `version` int(11) NOT NULL,
  `payload` longtext NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `published_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `event_id` (`event_id`),
  KEY `idx_outbox_entity__f636ed` (`entity_id`),
  KEY `idx_outbox_publish_53b0ee` (`published_at`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `stripe_links` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `entity` varchar(32) NOT NULL,
  `entity_id` varchar(64) NOT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `version` int(11) NOT NULL,
  `deleted` tinyint(1) NOT NULL,
  `metadata_keys` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`metadata_keys`)),
  `from_provider` tinyint(1) NOT NULL,
  `provider_email` varchar(254) DEFAULT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uid_stripe_link_entity_663d05` (`entity`,`entity_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
