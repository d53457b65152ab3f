// Generates the Prisma client into src/generated/prisma on install.
// The Prisma CLI insists on a schema-engine binary even for `generate`, which only needs the
// query compiler shipped in the npm package. Where no engine is configured we point it at a
// no-op executable so that installs work offline.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const dir = join(tmpdir(), 'lms-prisma-stub');
  mkdirSync(dir, { recursive: true });
  const stub = join(dir, 'schema-engine');
  if (!existsSync(stub)) {
    writeFileSync(stub, '#!/bin/sh\nexit 0\n');
    chmodSync(stub, 0o755);
  }
  env.PRISMA_SCHEMA_ENGINE_BINARY = stub;
}
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
