import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { builtinSteps } from '../../activities';
import { createConsoleServer } from '../../console/server';
import { SYSTEM } from '../../store/access';
import { testBackends } from '../support/backends';
import { recordingEngine } from '../fixtures/recording-engine';

// The console in Debian's chromium, driven by playwright-core, against the real server over a
// real Temporal dev server, a worker and the store: the journey of issue 13 from sign-in to a
// viewer's refusal. Each page's screenshot is kept for a person to look at.

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = resolve(process.env.KILN_TEST_OUTPUT ?? '.kiln/test-output', 'console');
const CSV = 'examples/data/german-credit.csv';

for (const backend of testBackends())
  describe(`the console in a browser on ${backend.name}`, () => {
    const tokens = {} as { alice: string; victor: string };
    const env = recordingEngine(backend, builtinSteps, async (store) => {
      tokens.alice = (await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver' })).token;
      tokens.victor = (await store.access.createToken(SYSTEM, { name: 'victor', role: 'viewer' })).token;
    });
    let work: string;
    let server: Awaited<ReturnType<typeof createConsoleServer>>;
    let base: string;
    let browser: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];
    const shot = (name: string) =>
      page.screenshot({ path: join(OUTPUT, `${backend.name}-${name}.png`), fullPage: true });

    before(async () => {
      await mkdir(OUTPUT, { recursive: true });
      work = await mkdtemp(join(tmpdir(), 'kiln-console-browser-'));
      server = await createConsoleServer({
        store: env.store,
        client: env.kiln.client,
        taskQueue: env.kiln.taskQueue,
        artifactsDir: env.kiln.artifactsDir,
        pipelines: ['examples/credit-risk.ts'],
      });
      base = await server.listen({ host: '127.0.0.1', port: 0 });
      browser = await chromium.launchPersistentContext(await mkdtemp(join(work, 'profile-')), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1400, height: 900 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      page = await browser.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('dialog', (dialog) => pageErrors.push(`a dialog opened: ${dialog.message()}`));
      // Only the console's own server may be reached.
      await page.route(
        (url) => !url.href.startsWith(`${base}/`),
        (route) => route.abort(),
      );
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    // What the page showed when a test ended, passed or failed: the first thing to look at.
    afterEach(async (t) => {
      await page?.screenshot({ path: join(OUTPUT, `${backend.name}-end-${t.name.slice(0, 40)}.png`), fullPage: true });
    });

    const signIn = async (token: string, name: string) => {
      await page.locator('input[name=token]').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('principal').filter({ hasText: name }).waitFor();
    };
    const nav = (section: string) => page.locator('header nav').getByRole('link', { name: section }).click();

    it('starts a credit-risk run and follows it to its approved model, its ROC curve and the CSV it came from', async () => {
      await page.goto(base);
      await shot('sign-in');
      await signIn(tokens.alice, 'alice');
      assert.match((await page.getByTestId('principal').textContent()) ?? '', /alice.*approver/);
      // Set once: a full-page reload anywhere below would lose it.
      await page.evaluate(() => Object.assign(globalThis, { kilnStillHere: true }));

      await page.getByRole('button', { name: 'Start a run…' }).click();
      await page.locator('.start-run input[name=epochs]').fill('60');
      await shot('start-run');
      await page.locator('.start-run').getByRole('button', { name: 'Start' }).click();
      // The console opens the new run's page.
      await page.waitForURL(/#\/runs\/credit-risk-/);
      const runId = decodeURIComponent(new URL(page.url()).hash.replace('#/runs/', ''));

      // The gate is still pending when the page opens (training takes a while), and turns to
      // waiting on the page itself, pushed by the server.
      const release = page.locator('[data-node="release"]');
      await release.waitFor();
      assert.equal(await release.getAttribute('data-state'), 'pending');
      await page.locator('[data-node="trials"]').filter({ hasText: 'of 4 done' }).waitFor({ timeout: 120_000 });
      await page.locator('[data-node="release"][data-state="waiting"]').waitFor({ timeout: 180_000 });
      assert.equal(await page.locator('[data-node="quality"]').getAttribute('data-state'), 'succeeded');
      await page.locator('[data-node="trials"]').click();
      await page.locator('.step-panel').filter({ hasText: '4 of 4 done' }).waitFor();
      await shot('run');

      await nav('Approvals');
      const gate = page.locator(`[data-gate="${runId}/release"]`);
      await gate.waitFor();
      assert.match((await gate.textContent()) ?? '', /rocAuc/);
      await shot('approvals');
      await gate.locator('input[name=comment]').fill('AUC and fairness hold');
      await gate.getByRole('button', { name: 'Approve' }).click();
      const decided = page.locator(`[data-decided="${runId}/release"]`);
      await decided.filter({ hasText: 'Approved by alice' }).waitFor();
      await gate.waitFor({ state: 'detached' }); // the decided gate leaves the inbox

      await decided.getByRole('link', { name: runId }).click();
      await page.getByTestId('run-state').filter({ hasText: 'succeeded' }).waitFor({ timeout: 120_000 });
      assert.equal(await page.locator('.graph-box:not([data-state="succeeded"])').count(), 0);
      await nav('Runs');
      await page.locator(`tr[data-run="${runId}"]`).filter({ hasText: 'alice' }).waitFor();
      await shot('runs');

      await nav('Models');
      await page.getByRole('link', { name: 'credit-risk' }).click();
      await page.locator('[data-version="1"]').waitFor();
      // The ROC curve is drawn: ECharts' SVG holds a path through the curve's many points.
      await page.locator('[data-chart="roc"] svg path').first().waitFor({ state: 'attached' });
      const segments = await page
        .locator('[data-chart="roc"] svg path')
        .evaluateAll((paths) => Math.max(...paths.map((p) => (p.getAttribute('d') ?? '').split('L').length - 1)));
      assert.ok(segments >= 10, `the ROC chart's longest path has ${segments} segments`);
      await shot('model');

      const csvHash = createHash('sha256')
        .update(await readFile(CSV))
        .digest('hex');
      await page.locator('[data-version="1"]').getByRole('link', { name: 'Lineage' }).click();
      const csvBox = page.locator('.graph-box').filter({ hasText: `sha256 ${csvHash.slice(0, 12)}` });
      await csvBox.waitFor();
      await csvBox.click();
      assert.equal(await page.getByTestId('node-hash').textContent(), csvHash);
      await shot('lineage');

      for (const [section, name] of [
        ['Deployments', 'deployments'],
        ['Schedules', 'schedules'],
        ['Audit', 'audit'],
      ] as const) {
        await nav(section);
        await page.locator('main h1').waitFor();
        assert.equal(await page.locator('main [role=alert]').count(), 0, `the ${section} page shows an error`);
        await shot(name);
      }
      await nav('Deployments');
      await page.getByRole('link', { name: 'credit-risk:production' }).click();
      await page.locator('main h1').filter({ hasText: 'credit-risk:production' }).waitFor();
      assert.equal(await page.locator('main [role=alert]').count(), 0, 'the deployment page shows an error');
      await shot('deployment');

      await nav('Audit');
      await page.getByTestId('audit-verify').waitFor();
      assert.match((await page.getByTestId('audit-verify').textContent()) ?? '', /verified/);

      assert.equal(await page.evaluate(() => 'kilnStillHere' in globalThis), true, 'no page was reloaded');
      assert.deepEqual(pageErrors, []);
    });

    it('shows where a run failed: the gate in red, its error type and the numbers', async () => {
      await nav('Runs');
      await page.getByRole('button', { name: 'Start a run…' }).click();
      await page.locator('.start-run input[name=minAuc]').fill('0.99');
      await page.locator('.start-run').getByRole('button', { name: 'Start' }).click();
      await page.getByTestId('run-state').filter({ hasText: 'failed' }).waitFor({ timeout: 120_000 });
      assert.equal(await page.locator('[data-node="gates"]').getAttribute('data-state'), 'failed');
      // The failed node is the one shown without a click.
      const panel = page.locator('.step-panel[data-step="gates"]');
      await panel.waitFor();
      assert.match(
        (await panel.locator('.note.error').textContent()) ?? '',
        /GateFailed.*roc_auc 0\.\d+ is below the gate 0\.99/,
      );
      assert.equal(await page.locator('[data-node="release"]').getAttribute('data-state'), 'cancelled');
      await shot('run-failed');
      assert.deepEqual(pageErrors, []);
    });

    it("shows a viewer the server's refusal when they try to promote a model, and a hostile run id as plain text", async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.locator('input[name=token]').waitFor();
      await signIn(tokens.victor, 'victor');
      assert.doesNotMatch((await page.getByTestId('principal').textContent()) ?? '', /approver/);

      await nav('Models');
      await page.getByRole('link', { name: 'credit-risk' }).click();
      await page.getByRole('button', { name: /Point production at v1/ }).click();
      const refusal = page.locator('.note.refused');
      await refusal.waitFor();
      assert.match((await refusal.textContent()) ?? '', /Not allowed/);
      await shot('refused');

      // A hostile run id in the URL is only ever text: sent encoded, answered 404, shown escaped.
      const hostile = '../session"><img src=x onerror=alert(1)>';
      await page.goto(`${base}/#/runs/${encodeURIComponent(hostile)}`);
      const error = page.locator('main [role=alert]');
      await error.waitFor();
      assert.match((await error.textContent()) ?? '', /Error 404/);
      assert.equal(await page.locator('main img').count(), 0);
      assert.match((await page.getByTestId('principal').textContent()) ?? '', /victor/, 'still signed in');
      assert.deepEqual(pageErrors, []);
    });
  });
