// Configuration is read from the environment once, validated with zod and frozen.
// Nothing else in the code base reads process.env; .env.example documents every variable.
import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const ConfigSchema = z.object({
  PORT: integer(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: integer(1024, 65535).default(54329),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_S: integer(60, 30 * 86400).default(86400),
  REFRESH_TOKEN_TTL_S: integer(60, 90 * 86400).default(7 * 86400),
  BODY_LIMIT_BYTES: integer(1024, 50 * 1024 * 1024).default(1024 * 1024),
  REQUEST_TIMEOUT_MS: integer(1000, 600000).default(30000),
  DB_POOL_MAX: integer(1, 200).default(10),
  DB_STATEMENT_TIMEOUT_MS: integer(100, 3600000).default(15000),
  DB_TRANSACTION_TIMEOUT_MS: integer(100, 3600000).default(20000),
  IDEMPOTENCY_TTL_HOURS: integer(1, 24 * 30).default(24),
  IDEMPOTENCY_LOCK_S: integer(5, 3600).default(60),
  SEED_DEMO: booleanFlag.default(true),
  SHUTDOWN_TIMEOUT_MS: integer(100, 120000).default(10000),
  SCHEDULER_INTERVAL_S: integer(0, 86400).default(60),
  EOD_WORKERS: integer(0, 64).default(1),
  EOD_PARTITION_LOANS: integer(1, 100000).default(1000),
  EOD_CHUNK_LOAN_DAYS: integer(100, 10000000).default(5000),
  EOD_JOB_TIMEOUT_S: integer(5, 3600).default(30),
  EOD_JOB_RETRIES: integer(0, 100).default(10),
  EOD_QUEUE_MAINTENANCE_S: integer(1, 3600).default(15),
  EOD_QUEUE_POLL_MS: integer(500, 60000).default(1000),
  EOD_SCHEDULE_IST: z.string().regex(/^(off|([01]\d|2[0-3]):[0-5]\d)$/, 'must be HH:MM (24-hour, IST) or off').default('00:30'),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; an empty string counts as unset. Throws naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') present[key] = value;
  }
  const result = ConfigSchema.refine((c) => c.IDEMPOTENCY_LOCK_S * 1000 > 2 * c.DB_TRANSACTION_TIMEOUT_MS, {
    path: ['IDEMPOTENCY_LOCK_S'],
    message: 'must exceed twice DB_TRANSACTION_TIMEOUT_MS (a request must finish before its key can be taken over)',
  }).safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** For process entry points: the configuration, or the bad variables on stderr and exit code 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
