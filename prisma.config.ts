// Prisma CLI configuration. The application never reads this file: it builds its own client
// with @prisma/adapter-pg (src/db/prisma.ts) and applies migrations with its own runner
// (src/db/migrate.ts), so that nothing needs Prisma's downloadable engines at run time.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/lms' },
});
