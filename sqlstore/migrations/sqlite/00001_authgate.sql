-- authgate's tables, SQLite dialect. The PostgreSQL file of the same
-- version creates the same tables with the same columns; only the type
-- names differ (BLOB here, BYTEA there). Times are Unix milliseconds (NULL:
-- none); flags are 0 or 1.

-- +goose Up
CREATE TABLE authgate_users (
	id             TEXT PRIMARY KEY,
	email          TEXT NOT NULL DEFAULT '',
	email_key      TEXT UNIQUE, -- lower-cased email, NULL when there is none
	email_verified BIGINT,
	name           TEXT NOT NULL DEFAULT '',
	image          TEXT NOT NULL DEFAULT '',
	role           TEXT NOT NULL DEFAULT '',
	password_hash  TEXT NOT NULL DEFAULT '',
	created        BIGINT NOT NULL
);

CREATE TABLE authgate_accounts (
	provider            TEXT NOT NULL,
	provider_account_id TEXT NOT NULL,
	user_id             TEXT NOT NULL REFERENCES authgate_users (id) ON DELETE CASCADE,
	type                TEXT NOT NULL DEFAULT '',
	access_token        TEXT NOT NULL DEFAULT '',
	refresh_token       TEXT NOT NULL DEFAULT '',
	expires_at          BIGINT NOT NULL DEFAULT 0,
	id_token            TEXT NOT NULL DEFAULT '',
	scope               TEXT NOT NULL DEFAULT '',
	token_type          TEXT NOT NULL DEFAULT '',
	linked              BIGINT NOT NULL, -- Unix microseconds, increasing per instance: the order of Accounts
	PRIMARY KEY (provider, provider_account_id)
);
CREATE INDEX authgate_accounts_user ON authgate_accounts (user_id);

-- user_id is a session's subject, which need not be a stored user: no
-- foreign key.
CREATE TABLE authgate_sessions (
	id         TEXT PRIMARY KEY,
	token_hash BLOB UNIQUE, -- SHA-256 of the cookie's token; NULL for a JWT session
	user_id    TEXT NOT NULL,
	created    BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	expires    BIGINT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	address    TEXT NOT NULL DEFAULT '',
	data       BLOB
);
CREATE INDEX authgate_sessions_user ON authgate_sessions (user_id);
CREATE INDEX authgate_sessions_expires ON authgate_sessions (expires);

CREATE TABLE authgate_verification_tokens (
	identifier TEXT NOT NULL,
	token_hash BLOB NOT NULL,
	expires    BIGINT NOT NULL,
	PRIMARY KEY (identifier, token_hash)
);
CREATE INDEX authgate_verification_tokens_expires ON authgate_verification_tokens (expires);

CREATE TABLE authgate_second_factors (
	user_id     TEXT PRIMARY KEY,
	totp_secret BLOB NOT NULL, -- sealed by authgate
	enabled     INTEGER NOT NULL DEFAULT 0,
	last_step   BIGINT NOT NULL DEFAULT 0,
	created     BIGINT
);

CREATE TABLE authgate_recovery_codes (
	user_id   TEXT NOT NULL,
	code_hash BLOB NOT NULL,
	PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE authgate_user_handles (
	user_id TEXT PRIMARY KEY,
	handle  BLOB NOT NULL UNIQUE
);

CREATE TABLE authgate_passkeys (
	credential_id   BLOB PRIMARY KEY,
	user_id         TEXT NOT NULL,
	name            TEXT NOT NULL DEFAULT '',
	public_key      BLOB NOT NULL,
	sign_count      BIGINT NOT NULL DEFAULT 0,
	backup_eligible INTEGER NOT NULL DEFAULT 0,
	backup_state    INTEGER NOT NULL DEFAULT 0,
	clone_warning   INTEGER NOT NULL DEFAULT 0,
	transports      TEXT NOT NULL DEFAULT '',
	aaguid          BLOB,
	data            BLOB,
	created         BIGINT,
	last_used       BIGINT
);
CREATE INDEX authgate_passkeys_user ON authgate_passkeys (user_id);

-- +goose Down
DROP TABLE authgate_passkeys;
DROP TABLE authgate_user_handles;
DROP TABLE authgate_recovery_codes;
DROP TABLE authgate_second_factors;
DROP TABLE authgate_verification_tokens;
DROP TABLE authgate_sessions;
DROP TABLE authgate_accounts;
DROP TABLE authgate_users;
