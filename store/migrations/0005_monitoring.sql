CREATE TABLE "monitor_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"monitor_id" uuid NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"version" integer,
	"rows" integer NOT NULL,
	"drifted" boolean NOT NULL,
	"share" real,
	"features" jsonb NOT NULL,
	"latency_p50_ms" real,
	"latency_p99_ms" real,
	"accuracy" real,
	"roc_auc" real,
	"episode" uuid,
	"actions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"report" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "monitor_reports_status_check" CHECK ("monitor_reports"."status" in ('measured', 'insufficientData', 'noLineage'))
);
--> statement-breakpoint
CREATE TABLE "monitors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"model" text NOT NULL,
	"alias" text NOT NULL,
	"policy" jsonb NOT NULL,
	"retrain" jsonb,
	"schedule_id" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "monitors_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "monitor_reports" ADD CONSTRAINT "monitor_reports_monitor_id_monitors_id_fk" FOREIGN KEY ("monitor_id") REFERENCES "public"."monitors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "monitor_reports_window_unique" ON "monitor_reports" USING btree ("monitor_id","window_start","window_end");--> statement-breakpoint
CREATE INDEX "monitor_reports_monitor_end_idx" ON "monitor_reports" USING btree ("monitor_id","window_end");--> statement-breakpoint
CREATE INDEX "monitor_reports_episode_idx" ON "monitor_reports" USING btree ("monitor_id","episode");