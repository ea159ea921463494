-- One logged row per (request, model, row, served): kiln stream's idempotent write becomes one
-- INSERT ... ON CONFLICT DO NOTHING. A row logged twice before keeps its first copy. The unique
-- index leads with request_id, so it also serves the feedback lookups predictions_request_idx did.
DELETE FROM "predictions" AS "later" USING "predictions" AS "first"
WHERE "later"."request_id" = "first"."request_id" AND "later"."model" = "first"."model"
  AND "later"."row_index" = "first"."row_index" AND "later"."served" = "first"."served"
  AND "later"."id" > "first"."id";--> statement-breakpoint
CREATE UNIQUE INDEX "predictions_once_idx" ON "predictions" USING btree ("request_id","model","row_index","served");--> statement-breakpoint
DROP INDEX "predictions_request_idx";
