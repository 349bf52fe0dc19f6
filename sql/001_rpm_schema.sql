-- RPM (Results, Purpose, Massive-action plan): weeks, their planning
-- items and exports.  The consistent schema of the old service
-- (sql/rpm/001_init.sql with its indexes and export status columns);
-- gen_random_uuid() is built into PostgreSQL 13 and later.
-- Applied by "rpm-week migrate", in order, once.

CREATE TABLE rpm_weeks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  week_start  date NOT NULL,
  week_end    date NOT NULL,
  version     int NOT NULL DEFAULT 1,
  status      text NOT NULL DEFAULT 'active'
              CHECK (status IN ('draft', 'active', 'archived')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (week_start, week_end),
  CHECK (week_end = week_start + 6)
);

CREATE TABLE rpm_items (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  week_id           uuid NOT NULL REFERENCES rpm_weeks (id) ON DELETE CASCADE,
  title             text NOT NULL,
  result            text,
  purpose           text,
  map_json          jsonb,
  owner_role        text,
  owner_user        text,
  status            text NOT NULL DEFAULT 'backlog'
                    CHECK (status IN ('backlog', 'ready', 'doing', 'review', 'done', 'blocked')),
  due_date          date,
  cialdini          text[],
  compliance_flags  text[],
  tags              text[],
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rpm_exports (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  week_id       uuid NOT NULL REFERENCES rpm_weeks (id) ON DELETE CASCADE,
  format        text NOT NULL CHECK (format IN ('md', 'csv', 'pdf')),
  gcs_path      text,
  url           text,
  sha256        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
  job_id        text,
  error         text,
  completed_at  timestamptz,
  failed_at     timestamptz
);

CREATE INDEX idx_rpm_items_week ON rpm_items (week_id);
CREATE INDEX idx_rpm_items_status_owner ON rpm_items (status, owner_role);
CREATE INDEX idx_rpm_exports_week_format ON rpm_exports (week_id, format);
CREATE INDEX idx_rpm_exports_status ON rpm_exports (status);
CREATE INDEX idx_rpm_exports_week_status ON rpm_exports (week_id, status);
