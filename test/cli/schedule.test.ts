import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { and, asc, eq } from 'drizzle-orm';
import { schedule } from '../../cli/commands/schedule';
import { ScheduleInputError } from '../../cli/schedules';
import { openStore, SYSTEM, type Store } from '../../store';
import { auditEvents } from '../../store/schema/audit';
import { runs } from '../../store/schema/runs';
import { engine } from '../fixtures/engine';
import { testSteps } from '../fixtures/steps';
import { postgres, type TestPostgres } from '../support/postgres';

// `kiln schedule` as a user drives it, against a real dev server and a PostgreSQL store that the
// worker and the commands share (scheduled runs start side by side): Temporal Schedules start
// runs that are recorded with the schedule's name, only operators change them, and every change
// and refusal lands in the audit trail.

const suffix = randomBytes(3).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
    const found = await probe();
    if (found !== undefined) return found;
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('kiln schedule', () => {
  let home: string;
  let file: string;
  let store: Store;
  let database: TestPostgres;
  let kiln: Awaited<ReturnType<typeof engine>>;
  const tokens: Record<string, string> = {};
  const saved = { ...process.env };
  const out: string[] = [];
  const print = (line: string) => {
    out.push(line);
  };
  const as = (who: string, ...args: string[]) => schedule([...args, '--token', tokens[who]!], print);
  // Straight from the tables, so these checks do not depend on the store API's shape.
  const runsOf = (name: string) =>
    store.db.select().from(runs).where(eq(runs.scheduleId, name)).orderBy(asc(runs.startedAt));
  const auditOf = (name: string, action?: string) =>
    store.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.subject, `schedule:${name}`), action ? eq(auditEvents.action, action) : undefined))
      .orderBy(asc(auditEvents.seq));
  const taken = async (name: string) => (await kiln.client.schedule.getHandle(name).describe()).info.numActionsTaken;
  const exists = (name: string) =>
    kiln.client.schedule
      .getHandle(name)
      .describe()
      .then(
        () => true,
        () => false,
      );

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kiln-schedule-'));
    database = await postgres();
    store = await openStore({ url: database.url });
    kiln = await engine(testSteps, { store });
    Object.assign(process.env, {
      KILN_HOME: home,
      TEMPORAL_ADDRESS: kiln.address,
      KILN_TASK_QUEUE: kiln.taskQueue,
      DATABASE_URL: database.url,
    });
    delete process.env.KILN_TOKEN;
    for (const [name, role] of [
      ['olive', 'operator'],
      ['victor', 'viewer'],
    ] as const) {
      tokens[name] = (await store.access.createToken(SYSTEM, { name, role })).token;
    }
    file = join(process.cwd(), 'test/fixtures/scheduled-pipeline.ts');
  });
  after(async () => {
    process.env = saved;
    await kiln.stop();
    await store.close();
    await database.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('starts runs on an interval, recorded with the schedule; list and describe show it; pause stops them, trigger starts one, delete removes it', async () => {
    const name = `tick-${suffix}`;
    assert.equal(
      await as('olive', 'create', name, '--pipeline', file, '--every', '2s', '-p', 'a=4', '--overlap', 'allow-all'),
      0,
    );
    const first = await until('a scheduled run to succeed', async () =>
      (await runsOf(name)).find((r) => r.status === 'succeeded'),
    );
    assert.equal(first.pipelineName, 'scheduled-sum');
    assert.deepEqual(first.params, { a: 4 });
    assert.match(first.id, new RegExp(`^${name}-\\d{4}-`), 'a run id is the schedule name and its due time');
    const started = await kiln.client.workflow.getHandle(first.workflowId).describe();
    assert.deepEqual(started.searchAttributes.TemporalScheduledById, [name], 'Temporal marks the run as scheduled');
    assert.deepEqual((await kiln.client.workflow.getHandle(first.workflowId).result()).output, { sum: 7 });

    out.length = 0;
    assert.equal(await as('victor', 'list'), 0);
    assert.match(out.join('\n'), new RegExp(`^${name} {2}scheduled-sum {2}every 2s {2}active`, 'm'));
    out.length = 0;
    assert.equal(await as('victor', 'describe', name), 0);
    const described = out.join('\n');
    assert.match(described, /pipeline {3}scheduled-sum \(plan [0-9a-f]{12}\)/);
    assert.match(described, /params {5}\{"a":4\}/);
    assert.match(described, /overlap {4}ALLOW_ALL/);
    assert.match(described, new RegExp(`recent {4} ${name}-`));

    assert.equal(await as('olive', 'pause', name, '--note', 'maintenance'), 0);
    await sleep(500);
    const paused = await taken(name);
    await sleep(4500);
    assert.equal(await taken(name), paused, 'a paused schedule starts no run');
    out.length = 0;
    await as('victor', 'describe', name);
    assert.match(out.join('\n'), new RegExp(`^${name} {2}paused \\(maintenance\\)`));

    assert.equal(await as('olive', 'trigger', name), 0);
    await until('the triggered run', async () => ((await taken(name)) === paused + 1 ? true : undefined), 10_000);
    await sleep(2500);
    assert.equal(await taken(name), paused + 1, 'trigger starts exactly one run, and the schedule stays paused');

    assert.equal(await as('olive', 'delete', name), 0);
    assert.equal(await exists(name), false);
    out.length = 0;
    await as('victor', 'list');
    assert.doesNotMatch(out.join('\n'), new RegExp(name));
    await assert.rejects(as('olive', 'pause', name), /no schedule named/);

    const trail = await auditOf(name);
    assert.deepEqual(
      trail.map((e) => [e.actor, e.action]),
      [
        ['olive', 'schedule.create'],
        ['olive', 'schedule.pause'],
        ['olive', 'schedule.trigger'],
        ['olive', 'schedule.delete'],
      ],
    );
    assert.deepEqual(trail[1]!.after, { note: 'maintenance' });
  });

  it('backfills a past window with one run per time the schedule would have fired', async () => {
    const name = `minutely-${suffix}`;
    assert.equal(
      await as('olive', 'create', name, '--pipeline', file, '--cron', '* * * * *', '-p', 'a=1', '--paused'),
      0,
    );
    // Three minute marks fall inside the window, none on its edges.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const from = new Date(minute - 5 * 60_000 + 30_000).toISOString();
    const to = new Date(minute - 2 * 60_000 + 30_000).toISOString();
    assert.equal(await as('olive', 'backfill', name, '--from', from, '--to', to, '--overlap', 'allow-all'), 0);
    const done = await until('three backfilled runs to succeed', async () => {
      const found = await runsOf(name);
      return found.length === 3 && found.every((r) => r.status === 'succeeded') ? found : undefined;
    });
    assert.deepEqual(done.map((r) => r.id).sort(), [
      `${name}-${new Date(minute - 4 * 60_000).toISOString().replace('.000', '')}`,
      `${name}-${new Date(minute - 3 * 60_000).toISOString().replace('.000', '')}`,
      `${name}-${new Date(minute - 2 * 60_000).toISOString().replace('.000', '')}`,
    ]);
    assert.deepEqual((await auditOf(name, 'schedule.backfill'))[0]?.after, { from, to, overlap: 'ALLOW_ALL' });
    await as('olive', 'delete', name);
  });

  it('refuses a viewer, audits the refusal and creates nothing', async () => {
    const name = `viewer-${suffix}`;
    await assert.rejects(
      as('victor', 'create', name, '--pipeline', file, '--every', '1h', '-p', 'a=1'),
      (e: Error) => e.name === 'AccessDeniedError' && /victor/.test(e.message) && /operator/.test(e.message),
    );
    const [denied] = await auditOf(name, 'access.denied');
    assert.equal(denied?.actor, 'victor');
    assert.equal(await exists(name), false);
  });

  it('refuses an invalid cron expression, an unknown pipeline and a bad interval with the reason, creating nothing', async () => {
    const name = `refused-${suffix}`;
    const cases: Array<[string[], RegExp]> = [
      [['--cron', '61 * * * *'], /cron expression '61 \* \* \* \*' is invalid: .*59/],
      [['--cron', '* * * *'], /has 4 field\(s\); write five/],
      [['--cron', 'every day'], /has 2 field\(s\)/],
      [['--every', 'soon'], /--every 'soon' is not a duration/],
      [
        ['--every', '1h', '--overlap', 'sometimes'],
        /--overlap 'sometimes' is not a policy; use one of skip, buffer-one/,
      ],
      [[], /add --cron '0 2 \* \* \*' or --every 1h/],
    ];
    for (const [timing, reason] of cases)
      await assert.rejects(as('olive', 'create', name, '--pipeline', file, '-p', 'a=1', ...timing), reason);
    await assert.rejects(
      as('olive', 'create', name, '--pipeline', join(home, 'missing.ts'), '--every', '1h'),
      (e: Error) => e instanceof ScheduleInputError && /pipeline file '.*missing\.ts' cannot be read/.test(e.message),
    );
    await assert.rejects(
      as('olive', 'create', name, '--pipeline', file, '--every', '1h', '-p', 'b=1'),
      /unknown parameter 'b'/,
    );
    assert.equal(await exists(name), false);
    assert.deepEqual(await auditOf(name), [], 'a refused schedule leaves no audit of a change');
  });

  it('refuses names that Temporal, a path or a shell would misread', async () => {
    for (const name of ['../x', 'nightly credit', 'x'.repeat(200), '$(touch pwned)', 'a/b', 'ünïcode', '']) {
      await assert.rejects(
        as('olive', 'create', name, '--pipeline', file, '--every', '1h', '-p', 'a=1'),
        (e: Error) => e instanceof ScheduleInputError && /schedule name|which schedule/.test(e.message),
        `the name ${JSON.stringify(name)} is refused`,
      );
    }
    out.length = 0;
    await as('victor', 'list');
    assert.doesNotMatch(out.join('\n'), /\.\.\/x|nightly credit|pwned/);
  });
});
