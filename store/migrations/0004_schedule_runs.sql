ALTER TABLE "runs" ADD COLUMN "schedule_id" text;--> statement-breakpoint
CREATE INDEX "runs_schedule_started_idx" ON "runs" USING btree ("schedule_id","started_at");