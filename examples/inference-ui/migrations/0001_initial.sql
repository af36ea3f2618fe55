-- Inference UI: the first migration (users, API keys, flows, events, AI usage).
-- Timestamps are Unix epoch milliseconds (INTEGER); JSON columns are TEXT.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  tier TEXT NOT NULL DEFAULT 'free'
    CHECK (tier IN ('free', 'developer', 'business', 'enterprise')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Only the SHA-256 of a key is stored; key_prefix (the key's first characters) identifies it
-- in listings and for revocation.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT '["*"]',
  last_used_at INTEGER,
  expires_at INTEGER,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX idx_api_keys_user ON api_keys(user_id);

CREATE TABLE flows (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  steps TEXT NOT NULL DEFAULT '[]',
  ai_config TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX idx_flows_user ON flows(user_id);

-- user_id is the API key's owner when the events came with a key, else the client's userId.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  session_id TEXT,
  event TEXT NOT NULL,
  component TEXT,
  properties TEXT,
  intent TEXT,
  sentiment REAL,
  timestamp INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX idx_events_user ON events(user_id, created_at);
CREATE INDEX idx_events_session ON events(session_id);
CREATE INDEX idx_events_timestamp ON events(timestamp);
CREATE INDEX idx_events_event ON events(event);

-- Daily counts per (user, event, component), kept up to date on ingestion. '' stands for
-- "none" so the UNIQUE constraint can match (NULLs never compare equal).
CREATE TABLE event_summaries (
  user_id TEXT NOT NULL DEFAULT '',
  date TEXT NOT NULL,
  event TEXT NOT NULL,
  component TEXT NOT NULL DEFAULT '',
  count INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, date, event, component)
);

-- One row per AI request served by inference-ui-streaming (cached ones included).
CREATE TABLE ai_usage (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  endpoint TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'aborted')),
  cached INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  first_token_ms INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX idx_ai_usage_user ON ai_usage(user_id, created_at);
