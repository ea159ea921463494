import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import {
  evaluateClassifier,
  evaluateFairness,
  fitFeatures,
  readCsv,
  registerModel,
  splitDataset,
  trainClassifier,
} from '../../activities/steps';
import { loadModelCard, ModelCardNotFoundError, type ModelCard } from '../../activities/registry/card';
import { cardHtml, cardMarkdown } from '../../activities/registry/card-render';
import { card as cardCommand } from '../../cli/commands/card';
import { compile, pipeline } from '../../dsl';
import { SYSTEM, type Principal } from '../../store/access';
import type { Store } from '../../store';
import { engine } from '../fixtures/engine';
import { testBackends } from '../support/backends';

const csv = fileURLToPath(new URL('../../examples/data/german-credit.csv', import.meta.url));
const HOSTILE = '<script>alert("card")</script>';

const carded = pipeline(
  { name: 'card-credit', params: z.object({ seed: z.number().int().default(11) }) },
  (p, params) => {
    const raw = p.step(readCsv, { path: csv, label: 'class' });
    const split = p.step(splitDataset, {
      dataset: raw.dataset,
      testFraction: 0.25,
      seed: params.seed,
      stratifyBy: 'class',
    });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
    const trained = p.step(
      trainClassifier,
      {
        train: split.train,
        transform: features.transform,
        label: 'class',
        positiveClass: 'bad',
        architecture: 'logistic',
        epochs: 3,
        learningRate: 0.05,
        batchSize: 1024,
        seed: params.seed,
      },
      { id: 'train' },
    );
    const heldOut = p.step(evaluateClassifier, { model: trained.model, dataset: split.test });
    const fairness = p.step(evaluateFairness, {
      model: trained.model,
      dataset: split.test,
      sensitive: 'personal_status',
      gates: [{ metric: 'demographic_parity_difference', max: 0.99 }],
    });
    const registered = p.step(
      registerModel,
      {
        name: 'card-credit',
        model: trained.model,
        metrics: { rocAuc: heldOut.metrics.rocAuc, accuracy: heldOut.metrics.accuracy },
        report: heldOut.report,
        card: {
          intendedUse: `pre-screening ${HOSTILE}`,
          owner: 'risk-team',
          limitations: ['trained on 1994 | German data'],
        },
        // A card holds the reports on record when the version is registered: fairness runs first.
      },
      { after: [fairness.report] },
    );
    return { version: registered.version, test: split.test, fairness: fairness.report };
  },
);

for (const backend of testBackends()) {
  describe(`model cards (${backend.name})`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    let files: ArtifactStore;
    let viewer: Principal;
    let card: ModelCard;
    let secondRun: string;
    before(async () => {
      store = await backend.open();
      kiln = await engine(builtinSteps, { store });
      files = new ArtifactStore(kiln.artifactsDir);
      viewer = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'card-viewer', role: 'viewer' })).token,
      );
      await (await kiln.start(carded, { seed: 11 })).result();
      await store.registry.promote(SYSTEM, 'card-credit', 1, 'production');
      const second = await kiln.start(carded, { seed: 12 });
      await second.result();
      secondRun = second.workflowId;
      await store.decisions.recordDecision(
        await store.access.authenticate(
          (await store.access.createToken(SYSTEM, { name: 'card-approver', role: 'approver' })).token,
        ),
        { runId: secondRun, gate: 'release', approved: true, comment: 'looks fine' },
      );
      card = await loadModelCard(store, files, viewer, 'card-credit', 2);
    });
    after(async () => {
      await kiln?.stop();
      await backend.close();
    });

    it('names the version, its run, plan hash and code version, and the declared use and owner', () => {
      assert.deepEqual([card.model.name, card.model.version], ['card-credit', 2]);
      assert.equal(card.run?.id, secondRun);
      assert.equal(card.run?.planHash, compile(carded).hash);
      assert.ok('commit' in card.run!.code);
      assert.equal(card.declared.owner, 'risk-team');
      assert.equal(card.declared.intendedUse, `pre-screening ${HOSTILE}`);
    });

    it('lists the source file by hash, the training data and the evaluation rows', async () => {
      const fileSha = createHash('sha256')
        .update(await readFile(csv))
        .digest('hex');
      assert.ok(
        card.data.sources.some((s) => s.sha256 === fileSha && s.kind === 'file'),
        JSON.stringify(card.data.sources),
      );
      assert.ok(card.data.training.some((t) => t.port === 'train' && t.kind === 'dataset' && t.rows === 750));
      assert.equal(card.data.evaluation?.rows, 250);
      assert.ok(card.lineage.steps.some((s) => s.step === 'train.classifier' && s.run === secondRun));
    });

    it('gives each evaluation metric a 95% bootstrap interval around its value', () => {
      assert.deepEqual(card.confidence, { level: 0.95, resamples: 200, seed: card.confidence!.seed });
      for (const name of ['rocAuc', 'accuracy', 'f1', 'brierScore']) {
        const m = card.metrics.find((x) => x.name === name);
        assert.ok(m && m.low !== null && m.high !== null, `${name} has an interval`);
        assert.ok(m.low! <= m.value && m.value <= m.high! && m.high! - m.low! < 0.25, JSON.stringify(m));
      }
    });

    it('shows fairness by group against its gate, calibration, and the production champion', () => {
      assert.ok(card.fairness!.groups.length >= 3, 'a row per personal_status group');
      assert.ok(
        card.fairness!.gates.some(
          (g) => g.metric === 'demographic_parity_difference' && g.threshold === 0.99 && g.bound === 'max',
        ),
      );
      assert.ok(card.curves.roc.length > 2 && card.curves.calibration.length > 0);
      assert.ok(card.calibration && card.calibration.ece >= 0);
      assert.equal(card.champion?.version, 1);
      assert.ok(card.champion.metrics.some((m) => m.name === 'rocAuc'));
    });

    it('shows who approved and when, as the store holds it after registration', () => {
      assert.equal(card.approvals.length, 1);
      assert.deepEqual(
        [card.approvals[0]!.gate, card.approvals[0]!.decision, card.approvals[0]!.by, card.approvals[0]!.reason],
        ['release', 'approved', 'card-approver', 'looks fine'],
      );
    });

    it('renders HTML with the curves as ECharts SVG and every declared text escaped', () => {
      const html = cardHtml(card);
      assert.equal(html.match(/<svg[\s>]/g)?.length, 2, 'ROC and calibration');
      assert.ok(!html.includes('<script'), 'no script element');
      assert.ok(html.includes('pre-screening &lt;script&gt;alert(&quot;card&quot;)&lt;/script&gt;'));
    });

    it('renders Markdown as plain tables, escaping pipes and markup', () => {
      const md = cardMarkdown(card);
      assert.match(md, /^# Model card: card-credit@2$/m);
      assert.match(md, /^\| rocAuc \| 0\.\d{4} \| \[0\.\d{4}, 0\.\d{4}\] \|$/m);
      assert.ok(md.includes('trained on 1994 \\| German data'));
      assert.ok(!md.includes('<script'));
    });

    if (backend.url)
      it('kiln card prints the HTML page and the Markdown for a viewer', async () => {
        const saved = { ...process.env };
        Object.assign(process.env, {
          DATABASE_URL: await backend.url!(),
          KILN_ARTIFACTS: kiln.artifactsDir,
          KILN_HOME: kiln.artifactsDir,
          KILN_TOKEN: (await store.access.createToken(SYSTEM, { name: 'card-reader', role: 'viewer' })).token,
        });
        try {
          const out: string[] = [];
          assert.equal(await cardCommand(['card-credit@production', '--html'], (l) => out.push(l)), 0);
          assert.match(out[0]!, /<title>Model card: card-credit@1<\/title>/);
          assert.ok(!out[0]!.includes('<script'));
          out.length = 0;
          assert.equal(await cardCommand(['card-credit@2'], (l) => out.push(l)), 0);
          assert.match(out[0]!, /^# Model card: card-credit@2$/m);
          await assert.rejects(
            cardCommand(['card-credit'], () => {}),
            /expected <name>@<version or alias>/,
          );
        } finally {
          process.env = saved;
        }
      });

    it('says why a version has no card', async () => {
      await store.artifacts.recordArtifact(SYSTEM, { sha256: 'c'.repeat(64), kind: 'model', size: 1 });
      await store.registry.registerModelVersion(SYSTEM, { model: 'card-credit', artifactSha256: 'c'.repeat(64) });
      await assert.rejects(
        loadModelCard(store, files, viewer, 'card-credit', 3),
        (error: unknown) =>
          error instanceof ModelCardNotFoundError && /card-credit@3 .*outside a run/.test(error.message),
      );
    });
  });
}
