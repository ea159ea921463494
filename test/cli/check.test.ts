import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convert } from 'xmlbuilder2';
import { parse } from 'yaml';
import { compile, pipeline } from '../../dsl';
import type { CheckCase, CheckReport } from '../../cli/check/run-checks';
import { noop } from '../fixtures/steps';

// `kiln check` as CI runs it: the `kiln` command in a project folder. The examples pass; a project
// of broken pipelines fails, each failure naming its file, node and reason, in text, JSON and JUnit.

const repo = resolve('.');
const kiln = join(repo, 'cli/kiln.sh');

function check(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(kiln, ['check', ...args], { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

let project: string;
let outside: string;

/** A plan whose two nodes wait for each other: `b` reads `a`, and `a` is edited to read `b`. */
function cyclicPlan() {
  const plan = compile(
    pipeline({ name: 'cyclic' }, (p) => {
      const a = p.step(noop, {}, { id: 'a' });
      p.step(noop, { after: a.ok }, { id: 'b' });
    }),
  );
  const a = plan.nodes.find((n) => n.id === 'a')!;
  if (a.type !== 'step') throw new Error('a is a step');
  a.inputs.after = { kind: 'source', source: { kind: 'ref', node: 'b', path: ['ok'] } };
  return plan;
}

const header = `import { pipeline } from '${repo}/dsl';
import { checkGates, checkQuality, readCsv } from '${repo}/activities/steps';
import { defineChecks } from '${repo}/cli/check/declaration';
`;

before(async () => {
  project = await mkdtemp(join(tmpdir(), 'kiln-check-'));
  outside = await mkdtemp(join(tmpdir(), 'kiln-check-outside-'));
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: [],
      },
    }),
  );
  await writeFile(
    join(project, 'type-error.ts'),
    `${header}
export default pipeline({ name: 'type-error' }, (p) => {
  p.step(readCsv, { path: 42 });
});
`,
  );
  await writeFile(join(project, 'cycle.plan.json'), JSON.stringify(cyclicPlan()));
  await mkdir(join(project, 'data'));
  await writeFile(join(project, 'data', 'people.csv'), 'name,age\nada,36\nbob,12\ncyd,41\n');
  await writeFile(join(outside, 'secret.csv'), 'name,age\neve,30\n');
  await writeFile(
    join(project, 'bad-data.ts'),
    `${header}
export default pipeline({ name: 'bad-data' }, (p) => {
  const raw = p.step(readCsv, { path: 'data/people.csv' });
  p.step(checkQuality, { dataset: raw.dataset, checks: [{ column: 'age', notNull: true, min: 18, max: 100 }] });
});
`,
  );
  await writeFile(
    join(project, 'bad-data.checks.ts'),
    `${header}
export default defineChecks({
  data: [
    { node: 'quality', sample: 'data/people.csv' },
    { node: 'quality', sample: '${join(outside, 'secret.csv')}' },
  ],
});
`,
  );
  // A checks file beside a pipeline that is a symlink to code outside the project: never imported.
  await writeFile(
    join(project, 'sneaky.ts'),
    `${header}
export default pipeline({ name: 'sneaky' }, (p) => {
  p.step(readCsv, { path: 'data/people.csv' });
});
`,
  );
  await writeFile(
    join(outside, 'evil.checks.ts'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync('${join(outside, 'imported')}', 'yes');\nexport default {};\n`,
  );
  await symlink(join(outside, 'evil.checks.ts'), join(project, 'sneaky.checks.ts'));
  await writeFile(
    join(project, 'bad-gate.ts'),
    `${header}
export const checks = defineChecks({
  models: [
    { node: 'gates', metrics: { rocAuc: 0.61, f1: 0.5 } },
    { node: 'gate', metrics: { rocAuc: 0.9 } },
  ],
});

export default pipeline({ name: 'bad-gate' }, (p) => {
  p.step(checkGates, { metrics: { rocAuc: 0.9 }, gates: [{ metric: 'roc_auc', min: 0.75 }] });
});
`,
  );
});
after(async () => {
  await rm(project, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('kiln check', () => {
  it('passes on the examples, running their declared data checks and model gates', async () => {
    const r = await check(repo, ['examples/credit-risk.ts', 'examples/wages.ts']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✔ examples\/credit-risk\.ts {2}type-checks/);
    assert.match(
      r.stdout,
      /✔ examples\/credit-risk\.ts \(node quality\) {2}data: quality on examples\/data\/german-credit\.csv/,
    );
    assert.match(
      r.stdout,
      /✔ examples\/credit-risk\.ts \(node gates\) {2}model: gates on examples\/checks\/credit-risk-metrics\.json/,
    );
    assert.match(r.stdout, /✔ examples\/wages\.ts {2}compiles and validates/);
    assert.match(r.stdout, /All 6 checks passed in 2 pipelines/);
  });

  describe('on broken pipelines', () => {
    let report: CheckReport;
    let junit: string;
    let code: number | null;
    const failed = (file: string, kind: CheckCase['kind']) =>
      report.cases.filter((c) => c.file === file && c.kind === kind && !c.passed);

    before(async () => {
      const r = await check(project, ['--json', '--junit', 'out.xml']);
      code = r.code;
      report = JSON.parse(r.stdout) as CheckReport;
      junit = await readFile(join(project, 'out.xml'), 'utf8');
    });

    it('finds every pipeline module and JSON plan in the project and exits 1', () => {
      assert.equal(code, 1);
      assert.deepEqual(report.files, ['bad-data.ts', 'bad-gate.ts', 'cycle.plan.json', 'sneaky.ts', 'type-error.ts']);
      assert.equal(report.passed, false);
    });

    it('fails a type error naming the file, line and the compiler message', () => {
      const [types] = failed('type-error.ts', 'types');
      assert.ok(types, JSON.stringify(report.cases));
      assert.match(
        types.reason!,
        /^type-error\.ts:6:\d+ TS2322: Type 'number' is not assignable to type 'Wire<string>'/,
      );
    });

    it('fails a cycle in a JSON plan naming the node', () => {
      const [compiled] = failed('cycle.plan.json', 'compile');
      assert.ok(compiled, JSON.stringify(report.cases));
      assert.match(compiled.node!, /^[ab]$/);
      assert.match(compiled.reason!, /cycle/);
    });

    it('fails a data check on the sample naming the node, the rule and the row', () => {
      const [data] = failed('bad-data.ts', 'data').filter((c) => c.name === 'data: quality on data/people.csv');
      assert.ok(data, JSON.stringify(report.cases));
      assert.equal(data.node, 'quality');
      assert.match(data.reason!, /DataQualityFailed: data quality failed: column 'age' range \[18, 100\]: .*\(row 2\)/);
    });

    it('fails a model gate naming the node, the metric, its value and the bar', () => {
      const gate = failed('bad-gate.ts', 'model').find((c) => c.node === 'gates');
      assert.ok(gate, JSON.stringify(report.cases));
      assert.equal(gate.node, 'gates');
      assert.match(gate.reason!, /GateFailed: roc_auc 0\.610 is below the gate 0\.750/);
    });

    it('fails a check that names a node the pipeline does not have, listing the ones it could mean', () => {
      const missing = failed('bad-gate.ts', 'model').find((c) => c.node === 'gate');
      assert.ok(missing, JSON.stringify(report.cases));
      assert.equal(missing.reason, "step 'gate': no such node in 'bad-gate'; its validate.gates steps are gates");
    });

    it('refuses a sample outside the project, without reading it', () => {
      const [refused] = failed('bad-data.ts', 'data').filter((c) => c.name.includes('secret.csv'));
      assert.ok(refused, JSON.stringify(report.cases));
      assert.match(refused.reason!, /refusing .*secret\.csv: it is outside the project/);
    });

    it('refuses a checks file that is a symlink leading out of the project, without importing it', async () => {
      const [refused] = failed('sneaky.ts', 'checks');
      assert.ok(refused, JSON.stringify(report.cases));
      assert.match(refused.reason!, /refusing .*sneaky\.checks\.ts: it is outside the project/);
      await assert.rejects(readFile(join(outside, 'imported')), { code: 'ENOENT' });
    });

    it('writes JUnit XML that lists each failure under its pipeline file', () => {
      const doc = convert(junit, { format: 'object' }) as {
        testsuites: {
          '@failures': string;
          testsuite: Array<{ '@name': string; '@failures': string; testcase: unknown }>;
        };
      };
      const failures = report.cases.filter((c) => !c.passed).length;
      assert.equal(Number(doc.testsuites['@failures']), failures);
      const suites = new Map(doc.testsuites.testsuite.map((s) => [s['@name'], s]));
      assert.deepEqual([...suites.keys()].sort(), report.files);
      const gateSuite = suites.get('bad-gate.ts')!;
      assert.equal(gateSuite['@failures'], '2');
      const cases = [gateSuite.testcase].flat() as Array<{ '@name': string; failure?: { '@message': string } }>;
      const gate = cases.find((c) => c.failure);
      assert.equal(gate?.['@name'], 'model: gates on declared metrics');
      assert.match(gate!.failure!['@message'], /^bad-gate\.ts \(node gates\): GateFailed: roc_auc 0\.610 is below/);
    });

    it('prints each failure with its file, node and reason for a person', async () => {
      const r = await check(project, ['bad-gate.ts', 'cycle.plan.json']);
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        /✘ bad-gate\.ts \(node gates\) {2}model: gates on declared metrics\n {4}GateFailed: roc_auc/,
      );
      assert.match(r.stdout, /✘ cycle\.plan\.json \(node [ab]\) {2}compiles and validates\n {4}.*cycle/);
      assert.match(r.stdout, /3 of 5 checks failed in 2 pipelines/);
    });
  });

  describe('refuses hostile paths', () => {
    it('refuses a pipeline outside the project', async () => {
      await writeFile(join(outside, 'elsewhere.ts'), 'export default 1;\n');
      const r = await check(project, [join(outside, 'elsewhere.ts')]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /kiln: refusing .*elsewhere\.ts: it is outside the project .* or a symlink leading out of it/,
      );
    });

    it('refuses a symlink in the project that leads out of it', async () => {
      await symlink(join(repo, 'examples', 'credit-risk.ts'), join(project, 'escape.ts'));
      try {
        const r = await check(project, ['escape.ts']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /kiln: refusing escape\.ts: it is outside the project/);
      } finally {
        await rm(join(project, 'escape.ts'));
      }
    });

    it('refuses ../ out of the project', async () => {
      const r = await check(project, ['../']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /kiln: refusing \.\.\/: it is outside the project/);
    });
  });
});

describe('the CI templates', () => {
  const commands = (job: { script?: string[]; steps?: Array<{ run?: string }> }) =>
    (job.script ?? job.steps?.flatMap((s) => (s.run ? [s.run] : [])) ?? []).join('\n');

  it('run kiln check on a pull request and start training on main, leaving promotion to the gate', async () => {
    const github = parse(await readFile('examples/ci/github-actions.yml', 'utf8')) as {
      jobs: Record<string, { if: string; steps: Array<{ run?: string }> }>;
    };
    const gitlab = parse(await readFile('examples/ci/gitlab-ci.yml', 'utf8')) as Record<
      string,
      { rules?: Array<{ if: string }>; script?: string[] }
    >;
    const pairs = [
      [github.jobs.check!, github.jobs.train!, github.jobs.check!.if, github.jobs.train!.if],
      [
        gitlab['kiln-check']!,
        gitlab['kiln-train']!,
        gitlab['kiln-check']!.rules![0]!.if,
        gitlab['kiln-train']!.rules![0]!.if,
      ],
    ] as const;
    for (const [check, train, onCheck, onTrain] of pairs) {
      assert.match(onCheck, /pull_request|merge_request_event/);
      assert.match(onTrain, /refs\/heads\/main|CI_DEFAULT_BRANCH/);
      assert.match(commands(check), /^npx kiln check --junit kiln-check\.xml$/m);
      assert.match(commands(train), /^npx kiln run \S+ --detach/m);
      assert.doesNotMatch(commands(train), /--approve|kiln approve|kiln models promote/);
    }
  });
});
