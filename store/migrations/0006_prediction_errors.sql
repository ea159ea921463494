CREATE TABLE "prediction_errors" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "prediction_errors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"model" text NOT NULL,
	"version" integer NOT NULL,
	"route" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"error_type" text NOT NULL,
	"message" text NOT NULL,
	CONSTRAINT "prediction_errors_route_check" CHECK ("prediction_errors"."route" in ('current', 'canary', 'shadow'))
);
--> statement-breakpoint
CREATE INDEX "prediction_errors_model_version_at_idx" ON "prediction_errors" USING btree ("model","version","at");