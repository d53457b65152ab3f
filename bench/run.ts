// npm run bench: request throughput through the whole stack (auth, tenancy, validation,
// Prisma, PostgreSQL) measured in-process with app.inject, each figure printed next to a
// baseline measured in the same run (GET /healthz: routing and serialisation only).
// Uses DATABASE_URL's server when set, else an embedded PostgreSQL; creates and drops its own
// database. Results are also written to bench/results/<timestamp>.json. Then the end-of-day
// benchmark (bench/eod.ts) at 20,000 loans: BENCH_EOD=0 skips it, BENCH_EOD_LOANS sets the size.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { Database } from '../src/db/database.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { newId } from '../src/domain/ids.js';
import { allocate, type OpenDemand } from '../src/domain/allocation.js';
import { InitiateLoanParamsIn } from '../src/modules/loan-params/schemas.js';
import { createDatabase, dropDatabase } from '../test/helpers/global-setup.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 20000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const CONCURRENCY = 8;

async function measure(name: string, request: (i: number) => Promise<number>): Promise<{ name: string; ops_per_s: number; p50_ms: number; p99_ms: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const end = performance.now() + DURATION_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const start = performance.now();
      const status = await request(i++);
      latencies.push(performance.now() - start);
      if (status >= 400) errors++;
    }
  }));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  return { name, ops_per_s: Math.round(latencies.length / (DURATION_MS / 1000)), p50_ms: at(0.5), p99_ms: at(0.99), errors };
}

async function main() {
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | null = null;
  let dir: string | null = null;
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'lms-bench-'));
    const embedded = await startEmbeddedPostgres({ dataDir: dir, port: 54399, persistent: false });
    serverUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const name = `lms_bench_${Date.now()}`;
  const url = await createDatabase(serverUrl, name);
  await migrate(url);
  const db = new Database({ url, poolMax: 10 });
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url }), db, jwtSecret: 'b'.repeat(32) }, { logger: false });
  try {
    const company = await app.services.companies.create('bench');
    const { token } = await app.services.apiTokens.create({ companyId: company.id, actor: 'bench' }, { name: 'bench', role: 'admin' });
    const noise = await app.services.companies.create('bench-other-tenant');
    // Seed set-based: this company's accounts plus as many of another tenant's, so that
    // tenant filtering has rows to skip.
    for (const cid of [company.id, noise.id]) {
      await db.pool.query(
        `INSERT INTO accounts (id, company_id, name, status, sanctioned_limit_paise, available_limit_paise, created_at, updated_at)
         SELECT gen_random_uuid(), $1, 'Bench ' || g, 'active', 10000000, 10000000, now() - g * interval '1 second', now() FROM generate_series(1, $2) g`,
        [cid, ACCOUNTS],
      );
    }
    await db.pool.query('ANALYZE accounts');
    const headers = { authorization: `Bearer ${token}` };
    const get = (u: string) => async () => (await app.inject({ method: 'GET', url: u, headers })).statusCode;
    const results = [];
    const baseline = await measure('GET /healthz (baseline)', async () => (await app.inject({ method: 'GET', url: '/healthz' })).statusCode);
    results.push(baseline);
    results.push(await measure('GET /v1/auth/ping/ (token lookup only)', get('/v1/auth/ping/')));
    results.push(await measure('GET accounts/{id}/', get(`/v1/lms/accounts/${(await app.services.accounts.list(company.id, { page: 1, page_size: 1 }, {})).results[0]!.id}/`)));
    results.push(await measure('GET accounts/ first page (15)', get('/v1/lms/accounts/')));
    results.push(await measure('GET accounts/ page_size=100', get('/v1/lms/accounts/?page_size=100')));
    results.push(await measure(`GET accounts/ deep page (page 100 of ${ACCOUNTS / 100})`, get('/v1/lms/accounts/?page=100&page_size=100')));
    const post = (withKey: boolean) => async (i: number) => (await app.inject({
      method: 'POST', url: '/v1/lms/accounts/', headers: { ...headers, ...(withKey ? { 'idempotency-key': newId() } : {}) },
      payload: { name: `Posted ${i}`, sanctioned_limit: 1000 },
    })).statusCode;
    results.push(await measure('POST accounts/', post(false)));
    results.push(await measure('POST accounts/ with Idempotency-Key', post(true)));
    results.push(...await moneyPaths(app, company.id, headers));
    console.log(`\n${ACCOUNTS} accounts per tenant, ${CONCURRENCY} concurrent, ${DURATION_MS} ms each\n`);
    console.log('benchmark'.padEnd(48), 'ops/s'.padStart(8), 'x baseline'.padStart(11), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'errors'.padStart(7));
    for (const r of results) {
      const ratio = (r.ops_per_s / baseline.ops_per_s).toFixed(3);
      console.log(r.name.padEnd(48), String(r.ops_per_s).padStart(8), ratio.padStart(11), String(r.p50_ms).padStart(8), String(r.p99_ms).padStart(8), String(r.errors).padStart(7));
    }
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`, JSON.stringify({ accounts: ACCOUNTS, concurrency: CONCURRENCY, duration_ms: DURATION_MS, results }, null, 2));
  } finally {
    await app.close();
    await db.close();
    await dropDatabase(serverUrl, name);
    if (stopEmbedded) await stopEmbedded();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A time-boxed loop of a synchronous function, as ops/s (for the pure allocation engine). */
function measureSync(name: string, fn: () => void) {
  let n = 0;
  const end = performance.now() + DURATION_MS;
  while (performance.now() < end) { fn(); n++; }
  return { name, ops_per_s: Math.round(n / (DURATION_MS / 1000)), p50_ms: 0, p99_ms: 0, errors: 0 };
}

/** The money paths: allocation (pure and through Mark Processed), topups, settlements. */
async function moneyPaths(app: Awaited<ReturnType<typeof buildApp>>, companyId: string, headers: Record<string, string>) {
  const by = { companyId, actor: 'bench' };
  const s = app.services;
  const bank = await s.collectionBanks.create(by, { account_no: '1234567890', account_holder_name: 'Bench', ifsc: 'HDFC0001234', account_type: 'current' });
  const accounts: string[] = [];
  for (let a = 0; a < 40; a++) {
    const lead = { lead_id: newId(), program_id: newId() };
    const account = await s.accounts.create(by, { name: `Borrower ${a}`, sanctioned_limit: 10n ** 12n, ...lead });
    await s.loanParams.initiate(by, InitiateLoanParamsIn.parse({ ...lead, roi_value: [{ days: -1, value: 12 }], emi_count: 12, emi_frequency: 'monthly' }));
    for (let l = 0; l < 3; l++) {
      const { loan } = await s.loans.initiateDisbursement(by, account.id, { amount: 100000_00n });
      await s.loans.activate(by, loan.id, '2024-01-01');
    }
    accounts.push(account.id);
  }
  const demands: OpenDemand[] = Array.from({ length: 144 }, (_, i) => ({
    id: `d${i}`, loanId: `l${i % 12}`, dueDate: `2024-${String(1 + (i % 12)).padStart(2, '0')}-05`, loanDisbursementDate: '2023-12-01',
    installmentNumber: 1 + Math.floor(i / 12), outstanding: { P: 700000n, NI: 90000n, OI: 1500n, PI: 800n, FEE: 0n },
  }));
  const rules = { tdsAmount: 0n, valueDate: '2024-12-31', componentOrder: ['PI', 'FEE', 'OI', 'NI', 'P'] as const, excessHandling: 'hold' as const };
  const results = [
    measureSync('allocate() pure, 1 demand', () => allocate({ ...rules, demands: demands.slice(0, 1), amount: 500000n, settlementOrder: 'due_date_first' })),
    measureSync('allocate() pure, 144 demands horizontal', () => allocate({ ...rules, demands, amount: 50_000_000n, settlementOrder: 'due_date_first' })),
    measureSync('allocate() pure, 144 demands vertical', () => allocate({ ...rules, demands, amount: 50_000_000n, settlementOrder: 'component_first' })),
  ];
  const processOn = (pick: (i: number) => string) => async (i: number) => {
    const created = await app.inject({ method: 'POST', url: '/v1/lms/records/', headers, payload: { account: pick(i), amount: 5000 } });
    if (created.statusCode !== 201) return created.statusCode;
    return (await app.inject({
      method: 'PUT', url: `/v1/lms/records/${created.json().id}/mark_processed/`, headers,
      payload: { utr: `B${newId().replace(/-/g, '').slice(-16)}`, settled_at: 1717200000, collection_bank_id: bank.id },
    })).statusCode;
  };
  results.push(await measure('POST records/ + mark_processed, 40 accounts', processOn((i) => accounts[i % accounts.length]!)));
  results.push(await measure('POST records/ + mark_processed, one account', processOn(() => accounts[0]!)));
  results.push(await measure('GET settlements/?account= (first page)', async () => (await app.inject({ method: 'GET', url: `/v1/lms/settlements/?account=${accounts[1]}`, headers })).statusCode));
  results.push(await measure('POST topups/ (checks + loan + payout)', async (i) => (await app.inject({
    method: 'POST', url: '/v1/lms/topups/', headers, payload: { account: accounts[i % accounts.length], amount: 1000, invoice_number: `BENCH-${i}` },
  })).statusCode));
  return results;
}

await main();

// End of day (bench/eod.ts, alone: npm run bench:eod): a small portfolio here so that npm run
// bench stays a few minutes. BENCH_EOD=0 skips it; BENCH_EOD_LOANS sets the number of loans.
if (process.env.BENCH_EOD !== '0') {
  const { eodBench } = await import('./eod.js');
  await eodBench({ loans: Number(process.env.BENCH_EOD_LOANS ?? 20000) });
}
