-- A decision is bound to the plan it was made for: decisions made before take their run's plan hash.
ALTER TABLE "approvals" ADD COLUMN "plan_hash" text;
--> statement-breakpoint
UPDATE "approvals" SET "plan_hash" = "runs"."plan_hash" FROM "runs" WHERE "runs"."id" = "approvals"."run_id";
--> statement-breakpoint
ALTER TABLE "approvals" ALTER COLUMN "plan_hash" SET NOT NULL;
