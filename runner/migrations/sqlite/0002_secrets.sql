-- Secrets and variables that flows refer to as ${secrets.NAME} and ${vars.NAME}. A secret is
-- stored sealed (AES-256-GCM, hex of nonce || ciphertext || tag) under the runner's secret key
-- and never read back by any API; a variable is plain text. Flows keep their references, so
-- adding these tables changes no existing row.

CREATE TABLE secrets (
    name       TEXT    PRIMARY KEY,
    sealed     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE vars (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
