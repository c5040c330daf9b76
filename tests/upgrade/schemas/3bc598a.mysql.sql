-- The schema `twoway migrate` made at 3bc598a (mysql).
-- Captured by `python -m tests.upgrade.capture`: do not edit.

CREATE TABLE `api_keys` (
  `id` varchar(36) NOT NULL,
  `name` varchar(100) NOT NULL,
  `scope` varchar(10) NOT NULL,
  `prefix` varchar(12) NOT NULL,
  `key_hash` varchar(64) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `revoked_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `key_hash` (`key_hash`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `conflicts` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `entity` varchar(32) NOT NULL,
  `entity_id` varchar(64) NOT NULL,
  `provider` varchar(32) NOT NULL,
  `path` varchar(255) NOT NULL,
  `app_value` longtext NOT NULL,
  `provider_value` longtext NOT NULL,
  `app_changed_at` datetime(6) NOT NULL,
  `provider_changed_at` datetime(6) NOT NULL,
  `winner` varchar(16) NOT NULL,
  `rule` varchar(16) NOT NULL,
  `provider_event_id` varchar(255) NOT NULL,
  `resolved_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_conflicts_entity_293bab` (`entity`,`entity_id`),
  KEY `idx_conflicts_resolve_476cd8` (`resolved_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `customers` (
  `id` varchar(36) NOT NULL,
  `version` int(11) NOT NULL,
  `field_clock` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`field_clock`)),
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `name` varchar(200) NOT NULL,
  `email` varchar(254) NOT NULL,
  `phone` varchar(40) DEFAULT NULL,
  `metadata` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`metadata`)),
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
  `note` longtext DEFAULT NULL,
  `inbound_occurred_at` datetime(6) DEFAULT NULL,
  `deleted` tinyint(1) NOT NULL,
  `shadow` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`shadow`)),
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

CREATE TABLE `products` (
  `id` varchar(36) NOT NULL,
  `version` int(11) NOT NULL,
  `field_clock` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`field_clock`)),
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `name` varchar(250) NOT NULL,
  `description` longtext DEFAULT NULL,
  `active` tinyint(1) NOT NULL,
  `metadata` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`metadata`)),
  `unit_label` varchar(12) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `rate_budget_members` (
  `budget` varchar(64) NOT NULL,
  `member` varchar(96) NOT NULL,
  `seen_at` datetime(6) NOT NULL,
  PRIMARY KEY (`budget`,`member`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `rate_budget_slots` (
  `budget` varchar(64) NOT NULL,
  `slot` int(11) NOT NULL,
  `free_at` datetime(6) NOT NULL DEFAULT '2000-01-01 00:00:00.000000',
  `holder` varchar(96) NOT NULL DEFAULT '',
  `lease` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`budget`,`slot`),
  KEY `rate_budget_slots_free` (`budget`,`free_at`),
  KEY `rate_budget_slots_holder` (`budget`,`holder`,`lease`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `rate_budgets` (
  `name` varchar(64) NOT NULL,
  `capacity` int(11) NOT NULL,
  `window_s` double NOT NULL,
  `paused_until` datetime(6) NOT NULL DEFAULT '2000-01-01 00:00:00.000000',
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `reconcile_runs` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `provider` varchar(32) NOT NULL,
  `entity` varchar(32) NOT NULL,
  `status` varchar(16) NOT NULL,
  `phase` varchar(16) NOT NULL,
  `cursor` longtext DEFAULT NULL,
  `push_cursor` varchar(64) DEFAULT NULL,
  `counts` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`counts`)),
  `notes` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`notes`)),
  `started_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `finished_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_reconcile_r_provide_5d60ba` (`provider`,`entity`,`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `repair_cursors` (
  `name` varchar(100) NOT NULL,
  `cursor` longtext DEFAULT NULL,
  `cursor_at` datetime(6) DEFAULT NULL,
  `passes` int(11) NOT NULL,
  `info` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`info`)),
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `salesforce_links` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `entity` varchar(32) NOT NULL,
  `entity_id` varchar(64) NOT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `version` int(11) NOT NULL,
  `deleted` tinyint(1) NOT NULL,
  `field_versions` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`field_versions`)),
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uid_salesforce__entity_c5e5eb` (`entity`,`entity_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `stripe_links` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `entity` varchar(32) NOT NULL,
  `entity_id` varchar(64) NOT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `version` int(11) NOT NULL,
  `deleted` tinyint(1) NOT NULL,
  `field_versions` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`field_versions`)),
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uid_stripe_link_entity_663d05` (`entity`,`entity_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
