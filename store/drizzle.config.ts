import { defineConfig } from 'drizzle-kit';

// Run from the repo root: npx drizzle-kit generate --config store/drizzle.config.ts
export default defineConfig({
  dialect: 'postgresql',
  schema: './store/schema/index.ts',
  out: './store/migrations',
  strict: true,
});
