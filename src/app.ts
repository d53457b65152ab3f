// buildApp(deps): the whole HTTP application. server.ts starts it; tests build the same one.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { findUnstorable } from './http/wire.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import idempotencyPlugin from './plugins/idempotency.js';
import requestLogPlugin from './plugins/request-log.js';
import swaggerPlugin from './plugins/swagger.js';
import { createServices, type Services } from './services.js';
import { accountRoutes } from './modules/accounts/routes.js';
import { apiTokenRoutes } from './modules/api-tokens/routes.js';
import { authRoutes } from './modules/auth/routes.js';
import { collectionBankRoutes } from './modules/collection-banks/routes.js';
import { companyRoutes } from './modules/companies/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { lineDetailRoutes } from './modules/line-details/routes.js';
import { loanParamsRoutes } from './modules/loan-params/routes.js';
import { loanDataRoutes } from './modules/loan-data/routes.js';
import { extraDataRoutes } from './modules/extra-data/routes.js';
import { emiRoutes } from './modules/emis/routes.js';
import { loanRoutes } from './modules/loans/routes.js';
import { accountOverviewRoutes } from './modules/account-overview/routes.js';
import { feeRoutes } from './modules/fees/routes.js';
import { userRoutes } from './modules/users/routes.js';
import { payoutRoutes } from './modules/payouts/routes.js';
import { topupRoutes } from './modules/topups/routes.js';
import { topupGroupRoutes } from './modules/topup-groups/routes.js';
import { recordRoutes } from './modules/records/routes.js';
import { reversalRoutes } from './modules/records/reversal-routes.js';
import { adjustmentRoutes } from './modules/records/adjustment-routes.js';
import { nachRoutes } from './modules/records/nach-routes.js';
import { eodRoutes } from './modules/eod/routes.js';
import { startQueue, type JobQueue } from './jobs/queue.js';
import { runScheduledTopups } from './jobs/topup-scheduler.js';

export interface AppDeps {
  config: Config;
  db: Database;
  jwtSecret: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    routeTable: RouteInfo[];
    services: Services;
  }
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const LOG_REDACT_PATHS = [
  'req.headers.authorization', 'headers.authorization', '*.password', '*.token', '*.access', '*.refresh', '*.account_no',
];

export interface RouteInfo {
  method: string;
  url: string;
  public: boolean;
  roles: readonly string[] | null;
}

export interface BuildOptions {
  logger?: boolean;
  /** Extra routes registered after the modules' (tests use it for routes that must fail). */
  register?: (app: FastifyInstance) => Promise<void>;
  /** Start the job queue (default true); false only for building the OpenAPI document offline. */
  queue?: boolean;
}

export async function buildApp(deps: AppDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: options.logger === false || config.LOG_LEVEL === 'silent' ? false : { level: config.LOG_LEVEL, redact: LOG_REDACT_PATHS },
    // Fastify's own two lines per request are replaced by one line (plugins/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  // Every request part, after its own schema: text the database cannot store (NUL, unpaired
  // surrogates) and absurdly deep JSON are a 400 naming the field, not a database error.
  app.setValidatorCompiler<z.ZodType>((route) => validatorCompiler({
    ...route,
    schema: route.schema.superRefine((value, ctx) => {
      const found = findUnstorable(value);
      if (found) ctx.addIssue({ code: 'custom', message: found.message, path: found.path });
    }),
  }));
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is a 415 like any other type we do not read.
  app.removeContentTypeParser('text/plain');
  app.decorate('deps', deps);
  // Every route, so that tests can check auth and tenancy on all of them, not a remembered few.
  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || route.schema?.hide) continue;
      routeTable.push({ method, url: route.url, public: route.config?.public === true, roles: route.config?.roles ?? null });
    }
  });
  app.decorate('services', createServices(deps.db, {
    jwtSecret: deps.jwtSecret, accessTtlSeconds: config.ACCESS_TOKEN_TTL_S, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_S,
  }, { partitionLoans: config.EOD_PARTITION_LOANS, chunkLoanDays: config.EOD_CHUNK_LOAN_DAYS }));

  await app.register(errorsPlugin);
  await app.register(requestLogPlugin);
  await app.register(authPlugin, { authService: app.services.auth });
  await app.register(idempotencyPlugin, { db: deps.db, ttlHours: config.IDEMPOTENCY_TTL_HOURS, lockSeconds: config.IDEMPOTENCY_LOCK_S });
  await app.register(swaggerPlugin);

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(companyRoutes);
  await app.register(userRoutes);
  await app.register(apiTokenRoutes);
  await app.register(collectionBankRoutes);
  await app.register(accountRoutes);
  await app.register(lineDetailRoutes);
  await app.register(loanParamsRoutes);
  await app.register(loanDataRoutes);
  await app.register(extraDataRoutes);
  await app.register(emiRoutes);
  await app.register(loanRoutes);
  await app.register(accountOverviewRoutes);
  await app.register(feeRoutes);
  await app.register(payoutRoutes);
  await app.register(topupRoutes);
  await app.register(topupGroupRoutes);
  await app.register(recordRoutes);
  await app.register(reversalRoutes);
  await app.register(adjustmentRoutes);
  await app.register(nachRoutes);
  await app.register(eodRoutes);
  if (options.register) await app.register(options.register);

  // The job queue: every app enqueues; with EOD_WORKERS > 0 this process also works EOD partitions.
  // A database that is down at start must not stop the API from starting (it answers /readyz 503
  // meanwhile): the queue is tried again every 5 s until it starts.
  let queue: JobQueue | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closing = false;
  const startJobs = async (): Promise<void> => {
    try {
      queue = await startQueue({
        pool: deps.db.pool, config, eod: app.services.eod, workers: config.EOD_WORKERS, log: app.log,
        nightly: async () => {
          const result = await app.services.eod.startNightly(config.EOD_SCHEDULE_IST);
          app.log.info(result, 'nightly EOD started');
        },
        topups: () => runScheduledTopups({ topups: app.services.topups, log: app.log.child({ job: 'topup-scheduler' }) }),
      });
    } catch (error) {
      if (closing) return;
      app.log.error({ err: error }, 'the job queue could not start; trying again in 5 s');
      retry = setTimeout(() => void startJobs(), 5000);
      retry.unref();
    }
  };
  if (options.queue !== false) await startJobs();
  app.addHook('onClose', async () => {
    closing = true;
    if (retry) clearTimeout(retry);
    await queue?.stop();
  });

  await app.ready();
  return app;
}
