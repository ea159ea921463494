import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import { loadModelCard } from '../../activities/registry/card';
import { testBackends } from '../support/backends';
import { statusQuery } from '../../workflows';
import creditRisk from '../../examples/credit-risk';
import { approveGate, approverAndViewer, waitForGate } from '../fixtures/gates';
import { recordingEngine } from '../fixtures/recording-engine';
import { SYSTEM } from '../../store/access';

// On both backends: approvals and alias moves are what the store must get right on each.
for (const backend of testBackends())
  describe(`the credit-risk example on ${backend.name}`, () => {
    const env = recordingEngine(backend, builtinSteps, approverAndViewer);

    interface Output {
      model: { uri: string; sha256: string };
      metrics: { rocAuc: number; f1: number; rows: number };
      version: number;
      promotedBy: string;
      fairness: { sexParityRatio: number; ageParityRatio: number; ageEqualizedOddsDifference: number };
      best: { learningRate: number; l2: number };
    }

    it("tunes, validates and, on an approver's word, registers and promotes the credit-risk model: held-out ROC AUC >= 0.75", async () => {
      const handle = await env.kiln.start(creditRisk);
      const { show, nodes } = await waitForGate(handle);
      assert.ok((show.rocAuc as number) >= 0.75, `held-out ROC AUC ${String(show.rocAuc)}`);
      assert.ok((show.sexParityRatio as number) >= 0.8, `parity by sex ${String(show.sexParityRatio)}`);
      assert.equal(typeof show.ageParityRatio, 'number', 'the age disparity is shown, not hidden');
      assert.deepEqual(Object.keys(show.bestParams as object).sort(), ['l2', 'learningRate']);
      assert.match(show.champion as string, /no version of 'credit-risk' holds the alias 'production' yet/);
      assert.equal(nodes.find((n) => n.id === 'quality')?.status, 'succeeded');
      assert.notEqual(
        nodes.find((n) => n.id === 'register')?.status,
        'succeeded',
        'nothing is registered before the approval',
      );

      await approveGate(handle, 'alice', { store: env.store });
      const result = await handle.result();
      assert.ok(
        result.nodes.every((n) => n.status === 'succeeded'),
        JSON.stringify(result.nodes.map((n) => [n.id, n.status])),
      );
      const output = result.output as Output;
      assert.ok(output.metrics.rocAuc >= 0.75, `held-out ROC AUC ${output.metrics.rocAuc}`);
      assert.equal(output.metrics.rows, 200, 'scored on the 200 held-out rows');
      assert.ok(
        output.fairness.sexParityRatio >= 0.8 && output.fairness.sexParityRatio <= 1,
        `parity by sex ${output.fairness.sexParityRatio}`,
      );
      assert.ok(
        output.fairness.ageParityRatio > 0 && output.fairness.ageParityRatio < 0.8,
        `parity by age ${output.fairness.ageParityRatio}`,
      );
      assert.ok(
        output.fairness.ageEqualizedOddsDifference <= 0.3,
        `equalized odds by age ${output.fairness.ageEqualizedOddsDifference}`,
      );

      // Four trials, each scored on the validation rows (640 fit, 160 validation), the best by ROC AUC.
      const trials = (
        await env.store.experiments.listTrials(SYSTEM, 'credit-risk', { metric: 'rocAuc', goal: 'max' })
      ).filter((t) => t.runId === handle.workflowId);
      assert.equal(trials.length, 4);
      assert.deepEqual(trials.map((t) => `${t.params.learningRate}/${t.params.l2}`).sort(), [
        '0.01/0.001',
        '0.01/0.1',
        '0.1/0.001',
        '0.1/0.1',
      ]);
      for (const t of trials) {
        assert.equal(t.status, 'succeeded');
        assert.equal(t.metrics.rows, 160);
        assert.ok(t.metrics.rocAuc! > 0.5 && t.metrics.rocAuc! <= 1, `trial ${t.key}: rocAuc ${t.metrics.rocAuc}`);
      }
      const best = trials.reduce((a, b) => (b.metrics.rocAuc! > a.metrics.rocAuc! ? b : a));
      assert.deepEqual(output.best, best.params);
      assert.equal(output.model.sha256, best.artifactSha256, "the model scored on the test rows is the best trial's");

      assert.equal(output.version, 1);
      assert.equal(output.promotedBy, 'alice');
      const production = await env.store.registry.getModelVersion(SYSTEM, 'credit-risk', 'production');
      assert.equal(production.version, 1);
      assert.equal(production.runId, handle.workflowId);
      assert.equal(production.artifactSha256, output.model.sha256);
      assert.equal(production.metrics.rocAuc, output.metrics.rocAuc);
      assert.equal(production.metrics.sexParityRatio, output.fairness.sexParityRatio);
      assert.deepEqual(
        (await env.store.registry.aliasHistory(SYSTEM, 'credit-risk', 'production')).map((m) => m.actor),
        ['alice'],
      );

      // Lineage reaches the exact bytes of the CSV the model was trained from.
      const csv = await readFile('examples/data/german-credit.csv');
      const sources = (await env.store.lineage.upstream(SYSTEM, 'credit-risk@production')).nodes.filter(
        (n) => n.type === 'artifact' && n.kind === 'file',
      );
      assert.deepEqual(
        sources.map((n) => n.type === 'artifact' && n.sha256),
        [createHash('sha256').update(csv).digest('hex')],
      );

      const model = await new ArtifactStore(env.kiln.artifactsDir).readJson<{ kind: string }>(output.model.uri);
      assert.equal(model.kind, 'kiln.model');

      // The version's card carries what the pipeline declares about it and where its data came from.
      const card = await loadModelCard(env.store, new ArtifactStore(env.kiln.artifactsDir), SYSTEM, 'credit-risk', 1);
      assert.equal(card.declared.owner, 'credit-risk team');
      assert.match(card.declared.intendedUse ?? '', /person to review/);
      assert.ok(
        JSON.stringify(card).includes(createHash('sha256').update(csv).digest('hex')),
        'the card names the CSV by hash',
      );
    });

    it("refuses a viewer's approval, and a forged one sent straight to the run: production stays on version 1", async () => {
      const handle = await env.kiln.start(creditRisk, { epochs: 60 });
      const { show } = await waitForGate(handle);
      assert.match(
        show.champion as string,
        /of the champion credit-risk@1 \(alias 'production'\), margin 0\.01: passed/,
      );
      // The way kiln approve goes: refused before the run hears of it.
      await assert.rejects(approveGate(handle, 'victor', { store: env.store }), { name: 'AccessDeniedError' });
      // Straight to Temporal, naming an approver: the gate does not take it (the store has no such
      // decision), audits the refusal and waits on; nothing is registered or deployed.
      await approveGate(handle, 'alice');
      const subject = `run:${handle.workflowId}#release`;
      for (
        let i = 0;
        i < 50 && (await env.store.audit.listAudit(SYSTEM, { action: 'access.denied', subject })).length === 0;
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      assert.ok(
        (await env.store.audit.listAudit(SYSTEM, { action: 'access.denied', subject })).some(
          (e) => e.actor === 'alice',
        ),
      );
      assert.equal((await handle.query(statusQuery)).nodes.find((n) => n.id === 'release')?.status, 'waiting');
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      assert.equal((await env.store.registry.getModelVersion(SYSTEM, 'credit-risk', 'production')).version, 1);
      assert.deepEqual(
        (await env.store.registry.aliasHistory(SYSTEM, 'credit-risk', 'production')).map((m) => m.actor),
        ['alice'],
      );
    });

    it('stops the run at the AUC gate when the bar is out of reach, naming metric, value and bar, and registers nothing', async () => {
      const handle = await env.kiln.start(creditRisk, { minAuc: 0.99 });
      const error = await handle.result().then(
        () => assert.fail('expected the gate to stop the run'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'GateFailed');
      assert.match(error.cause.message, /step 'gates' failed: roc_auc 0\.\d+ is below the gate 0\.99/);
      const status = await handle.query(statusQuery);
      assert.equal(status.nodes.find((n) => n.id === 'release')?.status, 'cancelled');
      const versions = (await env.store.registry.getModel(SYSTEM, 'credit-risk'))!.versions;
      assert.ok(
        versions.every((v) => v.runId !== handle.workflowId),
        'a model that failed its gate is not registered',
      );
    });

    it('fails at ingest on a malformed CSV, naming the line, before anything else runs', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kiln-bad-csv-'));
      const path = join(dir, 'bad.csv');
      await writeFile(path, 'checking_status,duration,class\nA11,6,good\nA12,48\nA14,12,good\n');
      const handle = await env.kiln.start(creditRisk, { data: path });
      const error = await handle.result().then(
        () => assert.fail('expected ingest to fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidData');
      assert.match(error.cause.message, /step 'readCsv' failed: .*line 3/);
      const status = await handle.query(statusQuery);
      assert.equal(status.nodes.find((n) => n.id === 'readCsv')?.attempts, 1);
      assert.equal(status.nodes.find((n) => n.id === 'quality')?.status, 'cancelled');
      assert.equal(status.nodes.find((n) => n.id === 'split')?.status, 'cancelled');
    });

    it('stops at the data-quality gate, naming the column and row, before the data is split', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kiln-bad-age-'));
      const path = join(dir, 'credit.csv');
      const [header, ...rows] = (await readFile('examples/data/german-credit.csv', 'utf8')).trimEnd().split('\n');
      const age = header!.split(',').indexOf('age');
      const cells = rows[9]!.split(',');
      cells[age] = '150';
      rows[9] = cells.join(',');
      await writeFile(path, `${[header, ...rows].join('\n')}\n`);
      const handle = await env.kiln.start(creditRisk, { data: path });
      const error = await handle.result().then(
        () => assert.fail('expected the quality gate to fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'DataQualityFailed');
      assert.match(error.cause.message, /column 'age' range \[18, 100\]: 1 row.*row 10\b/);
      const split = (await handle.query(statusQuery)).nodes.find((n) => n.id === 'split');
      assert.equal(split?.startedAt, undefined, 'the split never started');
    });
  });
