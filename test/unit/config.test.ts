import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'x'.repeat(32);

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: '.data',
      EMBEDDED_PG_PORT: 54329,
      LOG_LEVEL: 'info',
      ACCESS_TOKEN_TTL_S: 86400,
      REFRESH_TOKEN_TTL_S: 7 * 86400,
      BODY_LIMIT_BYTES: 1024 * 1024,
      REQUEST_TIMEOUT_MS: 30000,
      DB_POOL_MAX: 10,
      DB_STATEMENT_TIMEOUT_MS: 15000,
      DB_TRANSACTION_TIMEOUT_MS: 20000,
      IDEMPOTENCY_TTL_HOURS: 24,
      IDEMPOTENCY_LOCK_S: 60,
      SEED_DEMO: true,
      SHUTDOWN_TIMEOUT_MS: 10000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => { (config as { PORT: number }).PORT = 1; }).toThrow(TypeError);
  });

  it('treats an empty string as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '', JWT_SECRET: '', LOG_LEVEL: '', SEED_DEMO: '', BODY_LIMIT_BYTES: '' });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.JWT_SECRET).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.SEED_DEMO).toBe(true);
    expect(config.BODY_LIMIT_BYTES).toBe(1024 * 1024);
  });

  it('reads and coerces given values', () => {
    const config = loadConfig({
      PORT: '8080', HOST: '127.0.0.1', DATABASE_URL: 'postgresql://u:p@db:5432/lms', JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn', BODY_LIMIT_BYTES: '2048', SEED_DEMO: 'false', ACCESS_TOKEN_TTL_S: '600',
    });
    expect(config).toMatchObject({
      PORT: 8080, HOST: '127.0.0.1', DATABASE_URL: 'postgresql://u:p@db:5432/lms', JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn', BODY_LIMIT_BYTES: 2048, SEED_DEMO: false, ACCESS_TOKEN_TTL_S: 600,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db' }).DATABASE_URL).toBe('postgres://h/db');
    expect(loadConfig({ PORT: '0' }).PORT).toBe(0);
    expect(loadConfig({ PORT: '65535' }).PORT).toBe(65535);
  });

  it.each([
    ['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false],
  ])('SEED_DEMO=%s is %s', (value, expected) => {
    expect(loadConfig({ SEED_DEMO: value }).SEED_DEMO).toBe(expected);
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ SOMETHING_ELSE: 'whatever', PATH: '/bin' })).not.toThrow();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'localhost:5432/db'],
    ['JWT_SECRET', 'x'.repeat(31)],
    ['JWT_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_LEVEL', 'INFO'],
    ['SEED_DEMO', 'maybe'],
    ['BODY_LIMIT_BYTES', '10'],
    ['EMBEDDED_PG_PORT', '80'],
    ['ACCESS_TOKEN_TTL_S', '5'],
    ['DB_POOL_MAX', '0'],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(name);
  });

  it('names every bad variable at once', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', SEED_DEMO: 'maybe', JWT_SECRET: 'short', DATABASE_URL: 'mysql://x' });
    for (const name of ['PORT', 'LOG_LEVEL', 'SEED_DEMO', 'JWT_SECRET', 'DATABASE_URL']) expect(error.message).toContain(name);
    expect(error.message).not.toContain('HOST');
  });

  it('does not echo a rejected secret into the error', () => {
    const error = configError({ JWT_SECRET: 'hunter2-secret' });
    expect(error.message).toContain('JWT_SECRET');
    expect(error.message).not.toContain('hunter2-secret');
  });
});

describe('whitespace and non-decimal numbers', () => {
  it('treats a whitespace-only value as unset and rejects hex or exponent integers', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config.js');
    expect(loadConfig({ PORT: ' ' }).PORT).toBe(3000);
    expect(loadConfig({ PORT: '\t' }).PORT).toBe(3000);
    expect(() => loadConfig({ PORT: '0x10' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '1e3' })).toThrow(/PORT/);
    expect(loadConfig({ PORT: ' 8080 ' }).PORT).toBe(8080);
  });
});

describe('idempotency lock vs transaction timeout', () => {
  it('refuses a key lock shorter than twice the transaction timeout', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ IDEMPOTENCY_LOCK_S: '10', DB_TRANSACTION_TIMEOUT_MS: '10000' })).toThrow(/IDEMPOTENCY_LOCK_S/);
    expect(loadConfig({ IDEMPOTENCY_LOCK_S: '21', DB_TRANSACTION_TIMEOUT_MS: '10000' }).IDEMPOTENCY_LOCK_S).toBe(21);
  });
});
