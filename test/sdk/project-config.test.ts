import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadProjectConfig, projectSettings } from '../../runtime/project-config';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A project folder with this kiln.config.ts. */
async function project(config: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-config-'));
  dirs.push(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(join(dir, 'kiln.config.ts'), config);
  return dir;
}

describe('kiln.config.ts', () => {
  it('gives dev, worker and run the same step modules, pipelines and task queue', async () => {
    const dir = await project(
      `export default { steps: ['steps/features.ts'], pipelines: ['pipelines/wages.ts'], defaults: { taskQueue: 'features' } };`,
    );
    const config = await loadProjectConfig(dir);
    assert.deepEqual(config?.steps, [join(dir, 'steps/features.ts')]);
    assert.deepEqual(config?.pipelines, [join(dir, 'pipelines/wages.ts')]);
    const settings = await projectSettings({ taskQueue: 'kiln' }, { steps: ['steps/features.ts', 'more.ts'] }, {}, dir);
    assert.equal(settings.taskQueue, 'features');
    assert.deepEqual(settings.stepModules, [join(dir, 'steps/features.ts'), join(dir, 'more.ts')]);
  });

  it('lets the environment and the flags choose the task queue over the config', async () => {
    const dir = await project(`export default { defaults: { taskQueue: 'features' } };`);
    assert.equal(
      (await projectSettings({ taskQueue: 'from-env' }, {}, { KILN_TASK_QUEUE: 'from-env' }, dir)).taskQueue,
      'from-env',
    );
    assert.equal((await projectSettings({ taskQueue: 'kiln' }, { taskQueue: 'flag' }, {}, dir)).taskQueue, 'flag');
  });

  it('refuses a step module outside the project folder, naming the file and the entry', async () => {
    const dir = await project(`export default { steps: ['../../etc/evil.ts'] };`);
    await assert.rejects(loadProjectConfig(dir), {
      name: 'ProjectConfigError',
      message: new RegExp(
        `kiln\\.config\\.ts: steps\\[0\\] '\\.\\./\\.\\./etc/evil\\.ts' is outside the project folder`,
      ),
    });
  });

  it('refuses an unknown field, naming it', async () => {
    const dir = await project(`export default { step: ['a.ts'] };`);
    await assert.rejects(loadProjectConfig(dir), { name: 'ProjectConfigError', message: /kiln\.config\.ts: .*step/ });
  });

  it('is optional: a folder without one has no project config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-config-'));
    dirs.push(dir);
    assert.equal(await loadProjectConfig(dir), undefined);
  });
});
