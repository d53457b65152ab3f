// The database handle services and repositories share: a pg pool, a Prisma client over that
// pool (adapter-pg, no engine binary), and a request-scoped transaction context.
import pg from 'pg';
import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from '../generated/prisma/client.js';

export type TxClient = Prisma.TransactionClient;
export type DbClient = PrismaClient | TxClient;

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  transactionTimeoutMs?: number;
}

export class Database {
  readonly pool: pg.Pool;
  readonly prisma: PrismaClient;
  private readonly context = new AsyncLocalStorage<TxClient>();
  private readonly transactionTimeoutMs: number;

  constructor(options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      statement_timeout: options.statementTimeoutMs ?? 15000,
      connectionTimeoutMillis: 10000,
      application_name: 'lms-server',
      // A client machine that vanishes mid-transaction must not hold its row locks for hours.
      keepAlive: true,
      idle_in_transaction_session_timeout: Math.max(60000, options.transactionTimeoutMs ?? 20000),
    });
    // An idle client that loses its server (restart, failover) must not crash the process.
    this.pool.on('error', () => {});
    this.prisma = new PrismaClient({ adapter: new PrismaPg(this.pool) });
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 20000;
  }

  /** The client to use now: the surrounding transaction if there is one, else the pool. */
  get client(): DbClient {
    return this.context.getStore() ?? this.prisma;
  }

  get inTransaction(): boolean {
    return this.context.getStore() !== undefined;
  }

  /**
   * Runs fn in a transaction. Nested calls join the outer transaction, so a use case and the
   * idempotency record of the request that caused it commit or roll back together.
   */
  async transaction<T>(fn: (tx: TxClient) => Promise<T>): Promise<T> {
    const current = this.context.getStore();
    if (current) return fn(current);
    return this.prisma.$transaction((tx) => this.context.run(tx, () => fn(tx)), {
      timeout: this.transactionTimeoutMs,
      maxWait: this.transactionTimeoutMs,
    });
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect().catch(() => {});
    await this.pool.end().catch(() => {});
  }
}
