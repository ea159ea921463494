-- The audit trail is append-only: refuse UPDATE, DELETE and TRUNCATE, whoever asks.
CREATE FUNCTION "audit_events_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'audit events cannot be changed or removed; append a new event instead';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_refuse_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_refuse_change"();
--> statement-breakpoint
INSERT INTO "roles" ("name", "rank", "description") VALUES
  ('viewer', 1, 'read runs, lineage, models and the audit trail'),
  ('operator', 2, 'run, cancel and schedule pipelines'),
  ('approver', 3, 'approve or reject gates, move model aliases, deploy'),
  ('admin', 4, 'manage principals and tokens');
