// The migration runner on real PostgreSQL: an empty database, an up-to-date one, two runners at
// once, a failing migration, and the SQL migrations matching prisma/schema.prisma.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, migrate, MIGRATIONS_DIR, pendingMigrations } from '../../src/db/migrate.js';
import { newId } from '../../src/domain/ids.js';
import { createDatabase, dropDatabase } from '../helpers/global-setup.js';
import { diffSchemas } from '../../scripts/schema-diff.js';

const serverUrl = () => inject('serverUrl');
const created: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `lms_mig_${newId().replaceAll('-', '').slice(0, 20)}`;
  created.push(name);
  return createDatabase(serverUrl(), name);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function pending(url: string): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return await pendingMigrations((sql) => pool.query(sql));
  } finally {
    await pool.end();
  }
}

afterAll(async () => {
  for (const name of created) await dropDatabase(serverUrl(), name);
});

describe('migration runner', () => {
  let url: string;
  beforeAll(async () => { url = await freshDatabase(); });

  it('applies every migration to an empty database and records them as Prisma does', async () => {
    const applied = await migrate(url);
    expect(applied).toEqual(loadMigrations().map((m) => m.name));
    const rows = await query<{ migration_name: string; checksum: string; applied_steps_count: number; finished_at: Date | null }>(
      url, 'SELECT migration_name, checksum, applied_steps_count, finished_at FROM _prisma_migrations ORDER BY migration_name');
    expect(rows.map((r) => r.migration_name)).toEqual(applied);
    for (const [i, migration] of loadMigrations().entries()) {
      expect(rows[i]!.checksum).toBe(migration.checksum);
      expect(rows[i]!.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[i]!.finished_at).not.toBeNull();
    }
    expect(await pending(url)).toEqual([]);
  });

  it('does nothing on an up-to-date database', async () => {
    expect(await migrate(url)).toEqual([]);
    const [{ count }] = await query<{ count: string }>(url, 'SELECT count(*) FROM _prisma_migrations') as [{ count: string }];
    expect(Number(count)).toBe(loadMigrations().length);
  });

  it('serialises two runners started at once: each migration is applied exactly once', async () => {
    const other = await freshDatabase();
    const [a, b] = await Promise.all([migrate(other), migrate(other)]);
    expect([...a, ...b].sort()).toEqual(loadMigrations().map((m) => m.name));
    const rows = await query<{ migration_name: string }>(other, 'SELECT migration_name FROM _prisma_migrations');
    expect(rows).toHaveLength(loadMigrations().length);
  });

  it('leaves nothing behind when a migration fails, and reports which one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lms-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    mkdirSync(join(dir, '99990101000000_broken'));
    writeFileSync(join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;');
    const target = await freshDatabase();
    await expect(migrate(target, { dir })).rejects.toThrow(/99990101000000_broken/);
    const tables = await query<{ table_name: string }>(target, "SELECT table_name FROM information_schema.tables WHERE table_name = 'half_done'");
    expect(tables).toEqual([]);
    const recorded = await query<{ migration_name: string }>(target, "SELECT migration_name FROM _prisma_migrations WHERE migration_name LIKE '%broken'");
    expect(recorded).toEqual([]);
    // The good migrations before it did apply.
    expect(await pending(target)).toEqual([]);
  });
});

/** Columns, indexes and constraints of the public schema, for comparing two databases. */
async function catalog(url: string) {
  const columns = await query(url, `
    SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length, numeric_precision, datetime_precision
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
    ORDER BY table_name, column_name`);
  const indexes = await query(url, `
    SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
      -- Partial indexes cannot be written in schema.prisma either; they live only in migrations.
      AND indexdef NOT LIKE '% WHERE %'
    ORDER BY tablename, indexname`);
  const constraints = await query(url, `
    SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS def
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'
      -- CHECK constraints cannot be written in schema.prisma; they live only in migrations.
      AND contype <> 'c'
    ORDER BY 1, 2`);
  return { columns, indexes, constraints };
}

describe('schema drift', () => {
  it('the SQL migrations build exactly the schema prisma/schema.prisma describes', async () => {
    const viaMigrations = await freshDatabase();
    await migrate(viaMigrations);
    const viaSchema = await freshDatabase();
    const sql = await diffSchemas(serverUrl(), null, readFileSync('prisma/schema.prisma', 'utf8'));
    await query(viaSchema, sql);
    expect(await catalog(viaMigrations)).toEqual(await catalog(viaSchema));
  });
});
