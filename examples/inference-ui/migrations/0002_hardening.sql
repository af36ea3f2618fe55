-- Inference UI: AI request reservations and failed-key rate limiting.

-- One row per AI request admitted by the API worker, written (atomically, with the quota
-- check) before the request is forwarded for generation. ai_usage still records what was
-- served; the quota counts whichever of the two is larger, so concurrent requests cannot
-- all pass a check made before any of them was counted.
CREATE TABLE ai_reservations (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX idx_ai_reservations_user ON ai_reservations(user_id, created_at);

-- Failed API-key attempts per client address and minute window.
CREATE TABLE auth_failures (
  client TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (client, window_start)
);
