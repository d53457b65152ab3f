// Prints the SQL that turns one Prisma schema into another, offline, with Prisma's own
// schema engine compiled to WebAssembly. Use it to write a new migration:
//   npm run db:diff -- [--from <old schema file>|--from-git <rev>] > prisma/migrations/<ts>_<name>/migration.sql
// With no --from the diff starts from an empty database.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { createRequire } from 'node:module';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';

// The package imports its .wasm as an ES module, which Node 20 cannot load; instantiate it by hand.
async function loadEngine(): Promise<typeof bindings.SchemaEngine> {
  const require = createRequire(import.meta.url);
  const bytes = readFileSync(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm'));
  // Node has WebAssembly; the ES lib typings here do not declare it.
  const wasm = (globalThis as unknown as { WebAssembly: { instantiate(b: Buffer, i: object): Promise<{ instance: { exports: object } }> } }).WebAssembly;
  const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': bindings });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
  return bindings.SchemaEngine;
}

type Target = { tag: 'empty' } | { tag: 'schemaDatamodel'; files: { path: string; content: string }[] };

export async function diffSchemas(databaseUrl: string, fromSchema: string | null, toSchema: string): Promise<string> {
  // The adapter is only used for database targets; schema-to-schema diffs never call it.
  // The engine opens a connection even for schema-to-schema diffs, so it needs a reachable server.
  const factory = new PrismaPg({ connectionString: databaseUrl });
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const SchemaEngine = await loadEngine();
  const engine = await SchemaEngine.new({ datamodels: [['schema.prisma', toSchema]] }, () => {}, adapter);
  const from: Target = fromSchema === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: fromSchema }] };
  const to: Target = { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: toSchema }] };
  const result = await engine.diff({ from, to, script: true, exitCode: null, filters: { externalTables: [], externalEnums: [] } } as never);
  return (result as unknown as { stdout?: string }).stdout ?? JSON.stringify(result);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  let fromSchema: string | null = null;
  const fromIdx = args.indexOf('--from');
  const gitIdx = args.indexOf('--from-git');
  if (fromIdx >= 0) fromSchema = readFileSync(args[fromIdx + 1]!, 'utf8');
  if (gitIdx >= 0) fromSchema = execFileSync('git', ['show', `${args[gitIdx + 1]}:prisma/schema.prisma`], { encoding: 'utf8' });
  const toSchema = readFileSync('prisma/schema.prisma', 'utf8');
  process.stdout.write(await diffSchemas(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres', fromSchema, toSchema));
}
