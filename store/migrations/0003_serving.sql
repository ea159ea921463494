CREATE TABLE "prediction_labels" (
	"request_id" text NOT NULL,
	"row_index" integer NOT NULL,
	"model" text NOT NULL,
	"label" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prediction_labels_pk" PRIMARY KEY("request_id","row_index")
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "predictions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"row_index" integer NOT NULL,
	"model" text NOT NULL,
	"version" integer NOT NULL,
	"route" text NOT NULL,
	"served" boolean NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"features" jsonb NOT NULL,
	"probabilities" jsonb NOT NULL,
	"label" text NOT NULL,
	"latency_ms" real NOT NULL,
	CONSTRAINT "predictions_route_check" CHECK ("predictions"."route" in ('current', 'canary', 'shadow'))
);
--> statement-breakpoint
CREATE TABLE "traffic_splits" (
	"model_id" uuid NOT NULL,
	"alias" text NOT NULL,
	"mode" text NOT NULL,
	"candidate_version_id" uuid NOT NULL,
	"percent" integer NOT NULL,
	"rollout" text,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "traffic_splits_pk" PRIMARY KEY("model_id","alias"),
	CONSTRAINT "traffic_splits_mode_check" CHECK ("traffic_splits"."mode" in ('canary', 'shadow')),
	CONSTRAINT "traffic_splits_percent_check" CHECK ("traffic_splits"."percent" between 0 and 100)
);
--> statement-breakpoint
ALTER TABLE "traffic_splits" ADD CONSTRAINT "traffic_splits_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traffic_splits" ADD CONSTRAINT "traffic_splits_candidate_version_id_model_versions_id_fk" FOREIGN KEY ("candidate_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "prediction_labels_model_received_idx" ON "prediction_labels" USING btree ("model","received_at");--> statement-breakpoint
CREATE INDEX "predictions_model_version_at_idx" ON "predictions" USING btree ("model","version","at");--> statement-breakpoint
CREATE INDEX "predictions_request_idx" ON "predictions" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "predictions_at_brin_idx" ON "predictions" USING brin ("at");