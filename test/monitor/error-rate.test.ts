import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinSteps } from '../../activities';
import type { Row } from '../../activities/common/dataset/dataset';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { createMonitor, planMonitor, runMonitorWindow } from '../../cli/monitors';
import { SYSTEM, type Principal, type Store } from '../../store';
import { engine } from '../fixtures/engine';
import train from '../fixtures/monitor-pipeline';
import { testBackends } from '../support/backends';
import { testContext } from '../support/step-context';

// The monitor's error rate comes from prediction_errors: failed requests over answered and failed
// ones. A policy's maxErrorRate acts on it like drift, even in a window whose version answered
// nothing (too few rows to measure drift on), and a healthy window measures it and acts not.

let holdout: Record<string, unknown>[];
let dir: string;

before(async () => {
  const ctx = await testContext();
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  holdout = (await loadDataset(ctx.artifacts, split.test)).rows.map(({ class: _label, ...rest }: Row) => rest);
  await ctx.dispose();
  dir = await mkdtemp(join(tmpdir(), 'kiln-error-rate-'));
});
after(() => rm(dir, { recursive: true, force: true }));

for (const backend of testBackends()) {
  describe(`the monitor's error rate on ${backend.name}`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    let operator: Principal;
    const name = `${backend.name}-errors-${randomUUID().slice(0, 6)}`;

    /** Logs `answered` requests of one holdout row each and `failed` failed requests for a version; returns their window. */
    async function traffic(version: number, answered: number, failed: number) {
      const start = new Date();
      const at = new Date(start.getTime() + 1);
      await store.serving.recordPredictions(
        SYSTEM,
        holdout.slice(0, answered).map((features, i) => ({
          requestId: `ok-${version}-${i}-${randomUUID()}`,
          rowIndex: 0,
          model: 'credit-risk',
          version,
          route: 'current' as const,
          served: true,
          at,
          features,
          probabilities: [0.7, 0.3],
          label: 'good',
          latencyMs: 2,
        })),
      );
      await store.serving.recordPredictionErrors(
        SYSTEM,
        Array.from({ length: failed }, (_, i) => ({
          requestId: `failed-${version}-${i}-${randomUUID()}`,
          model: 'credit-risk',
          version,
          route: 'current' as const,
          at,
          errorType: 'RangeError',
          message: 'offset is out of bounds',
        })),
      );
      return { start, end: new Date(at.getTime() + 1) };
    }

    before(async () => {
      store = await backend.open();
      kiln = await engine(builtinSteps, { store });
      for (const seed of [7, 8]) {
        const { version } = (await (await kiln.start(train, { seed, epochs: 5 })).result()).output as {
          version: number;
        };
        await store.registry.promote(SYSTEM, 'credit-risk', version, 'production');
      }
      ({ principal: operator } = await store.access.createToken(SYSTEM, { name: 'olga', role: 'operator' }));
      const policyFile = join(dir, `${name}.yaml`);
      await writeFile(policyFile, 'minRows: 100\nmaxErrorRate: 0.2\nactions:\n  rollback: true\n');
      const request = { target: 'credit-risk@production', name, policyFile, paused: true };
      await createMonitor(store, kiln.client, kiln.taskQueue, operator, await planMonitor(store, operator, request));
    });
    after(async () => {
      await kiln?.stop();
      await backend.close();
    });

    it('rolls back a version that failed every request of the window, with the error rate on record', async () => {
      const window = await traffic(2, 0, 120);
      const { report, actions } = await runMonitorWindow(store, kiln.client, kiln.taskQueue, operator, name, window);
      assert.equal(report.version, 2);
      assert.equal(report.status, 'insufficientData', 'no answered row to measure drift on');
      assert.equal(report.errors, 120);
      assert.equal(report.errorRate, 1);
      assert.equal(report.errorRateExceeded, true);
      assert.ok(report.episode, 'an unhealthy window opens an episode');
      assert.deepEqual(
        actions.map((a) => [a.kind, a.outcome]),
        [['rollback', 'done']],
      );
      const served = await store.registry.getModelVersion(SYSTEM, 'credit-risk', 'production');
      assert.equal(served.version, 1);
      const trail = await store.audit.listAudit(SYSTEM, { subject: `monitor:${name}`, action: 'monitor.rollback' });
      assert.equal(trail.length, 1);
    });

    it('measures the error rate of a healthy window beside its drift and acts not', async () => {
      const window = await traffic(1, 150, 10);
      const { report, actions } = await runMonitorWindow(store, kiln.client, kiln.taskQueue, operator, name, window);
      assert.equal(report.version, 1);
      assert.equal(report.status, 'measured');
      assert.equal(report.drifted, false);
      assert.equal(report.errors, 10);
      assert.equal(report.errorRate, 10 / 160);
      assert.equal(report.errorRateExceeded, false);
      assert.equal(report.episode, null);
      assert.deepEqual(actions, []);
      assert.equal((await store.registry.getModelVersion(SYSTEM, 'credit-risk', 'production')).version, 1);
    });
  });
}
