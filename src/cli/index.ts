// Operator CLI: npm run cli -- <command> [options]. Works with or without a running server:
// with DATABASE_URL it connects there; otherwise it reuses the embedded PostgreSQL in DATA_DIR
// when a server has it up, or starts it for the length of the command.
import { parseArgs } from 'node:util';
import { ensureJwtSecret, DEMO_COMPANY } from '../bootstrap.js';
import { ConfigError, loadConfig } from '../config.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { resolveDatabaseUrl, type ResolvedDatabase } from '../db/open.js';
import { istDateOf } from '../domain/time.js';
import { DomainError } from '../errors.js';
import { ROLES, type Role } from '../modules/auth/roles.js';
import { createServices, type Services } from '../services.js';

const say = (text: string) => process.stdout.write(`${text}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

interface Command {
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  needsServices: boolean;
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[]; services: Services | null; url: string }): Promise<void>;
}

const companyOption = { company: { type: 'string' as const } };

async function companyId(services: Services, value: string | boolean | undefined): Promise<string> {
  return (await services.companies.find(typeof value === 'string' ? value : DEMO_COMPANY)).id;
}

function role(value: string | boolean | undefined, fallback: Role): Role {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) throw new DomainError('VALIDATION_ERROR', `--role must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

const COMMANDS: Record<string, Command> = {
  migrate: {
    usage: 'migrate                 Apply pending database migrations.',
    options: {},
    needsServices: false,
    async run({ url }) {
      const applied = await migrate(url, { log: note });
      say(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
    },
  },
  'company create': {
    usage: 'company create <name>   Create a company (tenant); prints its id.',
    options: {},
    needsServices: true,
    async run({ positionals, services }) {
      if (!positionals[0]) throw new DomainError('VALIDATION_ERROR', 'company create needs a name');
      say((await services!.companies.create(positionals.join(' '))).id);
    },
  },
  'company list': {
    usage: 'company list            List companies: id and name.',
    options: {},
    needsServices: true,
    async run({ services }) {
      for (const c of await services!.companies.list()) say(`${c.id}\t${c.name}`);
    },
  },
  'user create': {
    usage: 'user create --username <u> --password <p> [--role admin|maker|checker|viewer] [--company <id or name>]',
    options: { username: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, ...companyOption },
    needsServices: true,
    async run({ values, services }) {
      if (typeof values.username !== 'string' || typeof values.password !== 'string') throw new DomainError('VALIDATION_ERROR', '--username and --password are required');
      if (values.password.length < 10) throw new DomainError('VALIDATION_ERROR', '--password must be at least 10 characters');
      const id = await companyId(services!, values.company);
      const user = await services!.users.create({ companyId: id, actor: 'cli' }, { username: values.username, password: values.password, role: role(values.role, 'maker') });
      say(user.id);
    },
  },
  'user list': {
    usage: 'user list [--company <id or name>]',
    options: companyOption,
    needsServices: true,
    async run({ values, services }) {
      const page = await services!.users.list(await companyId(services!, values.company), { page: 1, page_size: 100 }, {});
      for (const u of page.results) say(`${u.id}\t${u.username}\t${u.role}\t${u.isActive ? 'active' : 'inactive'}`);
    },
  },
  'token create': {
    usage: 'token create [--company <id or name>] [--name <label>] [--role admin|maker|checker|viewer]\n                        Prints only the new API token (default: admin token of the demo company).',
    options: { name: { type: 'string' }, role: { type: 'string' }, ...companyOption },
    needsServices: true,
    async run({ values, services }) {
      const id = await companyId(services!, values.company);
      const created = await services!.apiTokens.create({ companyId: id, actor: 'cli' }, {
        name: typeof values.name === 'string' ? values.name : 'cli', role: role(values.role, 'admin'),
      });
      say(created.token);
    },
  },
  'token list': {
    usage: 'token list [--company <id or name>]',
    options: companyOption,
    needsServices: true,
    async run({ values, services }) {
      const page = await services!.apiTokens.list(await companyId(services!, values.company), { page: 1, page_size: 100 }, true);
      for (const t of page.results) say(`${t.id}\t${t.prefix}…\t${t.name}\t${t.role}\t${t.revokedAt ? 'revoked' : 'active'}`);
    },
  },
  'token revoke': {
    usage: 'token revoke <token id> [--company <id or name>]',
    options: companyOption,
    needsServices: true,
    async run({ values, positionals, services }) {
      if (!positionals[0]) throw new DomainError('VALIDATION_ERROR', 'token revoke needs a token id');
      await services!.apiTokens.revoke({ companyId: await companyId(services!, values.company), actor: 'cli' }, positionals[0]);
      say('revoked');
    },
  },
  'topups disburse-scheduled': {
    usage: 'topups disburse-scheduled [--date YYYY-MM-DD]\n                        Pays out scheduled topups due on or before the date (default today, IST), for every company.',
    options: { date: { type: 'string' } },
    needsServices: true,
    async run({ values, services }) {
      const date = typeof values.date === 'string' ? values.date : istDateOf(new Date());
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
        throw new DomainError('VALIDATION_ERROR', '--date must be a date as YYYY-MM-DD');
      }
      const run = await services!.topups.disburseScheduled(date);
      say(`as of ${run.asOf}: ${run.disbursed.length} paid out, ${run.checksFailed.length} failed their checks, ${run.skipped} skipped, ${run.errors.length} error(s)`);
      for (const ref of run.disbursed) say(`paid out\t${ref}`);
      for (const ref of run.checksFailed) say(`checks failed\t${ref}`);
      for (const failure of run.errors) note(`error\t${failure.topup}\t${failure.message}`);
      if (run.errors.length > 0) throw new DomainError('STATE_CONFLICT', `${run.errors.length} topup(s) could not be paid out (left scheduled; listed above)`);
    },
  },
};

function help(): string {
  return ['Usage: npm run cli -- <command> [options]', '', 'Commands:', ...Object.values(COMMANDS).map((c) => `  ${c.usage}`), '', 'Every command takes --help.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const name = argv.length >= 2 && COMMANDS[`${argv[0]} ${argv[1]}`] ? `${argv[0]} ${argv[1]}` : argv[0];
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    (name && name !== '--help' && name !== 'help' ? note : say)(help());
    return name && name !== '--help' && name !== 'help' ? 2 : 0;
  }
  const rest = argv.slice(name!.split(' ').length);
  const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    say(`Usage: npm run cli -- ${command.usage}`);
    return 0;
  }
  const config = loadConfig();
  const resolved: ResolvedDatabase = await resolveDatabaseUrl(config, note);
  let db: Database | null = null;
  try {
    let services: Services | null = null;
    if (command.needsServices) {
      await migrate(resolved.url, { log: note });
      db = new Database({ url: resolved.url, poolMax: 2 });
      services = createServices(db, { jwtSecret: await ensureJwtSecret(db, config), accessTtlSeconds: 60, refreshTtlSeconds: 60 });
    }
    await command.run({ values, positionals, services, url: resolved.url });
    return 0;
  } finally {
    await db?.close();
    if (resolved.embedded?.owned) await resolved.embedded.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof DomainError || error instanceof ConfigError) note(`error: ${error.message}`);
    else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) note(`error: ${error.message}\n\n${help()}`);
    else note(`error: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
