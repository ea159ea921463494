import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { advertiseCatalog, advertisedCatalogs, workerIdentity } from '../../workers/catalog-advert';

const home = await mkdtemp(join(tmpdir(), 'kiln-adverts-'));
after(() => rm(home, { recursive: true, force: true }));

describe('worker catalog adverts', () => {
  it('lists what a worker advertised for its task queue until it withdraws it', async () => {
    const advert = await advertiseCatalog(home, { identity: workerIdentity(), taskQueue: 'q', steps: ['a.b'] });
    assert.deepEqual([...(await advertisedCatalogs(home, 'q'))], [[workerIdentity(), ['a.b']]]);
    assert.equal((await advertisedCatalogs(home, 'other')).size, 0);
    await advert.withdraw();
    assert.equal((await advertisedCatalogs(home, 'q')).size, 0);
  });

  it('drops the advert of a worker of this host that died without withdrawing it', async () => {
    // A pid above the kernel's limit is never alive.
    await advertiseCatalog(home, { identity: `4194305@${hostname()}`, taskQueue: 'q', steps: ['x.y'] });
    const advert = await advertiseCatalog(home, { identity: workerIdentity(), taskQueue: 'q', steps: ['a.b'] });
    assert.deepEqual([...(await advertisedCatalogs(home, 'q')).keys()], [workerIdentity()]);
    await advert.withdraw();
  });

  it('keeps an identity that could escape the folder inside it', async () => {
    const advert = await advertiseCatalog(home, { identity: '../../evil', taskQueue: 'q', steps: [] });
    assert.deepEqual([...(await advertisedCatalogs(home, 'q')).keys()], ['../../evil']);
    await advert.withdraw();
  });

  it('says no worker advertised when none has, and names the folder when it cannot be read', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'kiln-adverts-'));
    assert.equal((await advertisedCatalogs(fresh, 'q')).size, 0);
    await writeFile(join(fresh, 'workers'), 'not a folder');
    await assert.rejects(advertisedCatalogs(fresh, 'q'), (error: Error) =>
      error.message.startsWith(`cannot read the worker adverts in ${join(fresh, 'workers')}: ENOTDIR`),
    );
    await rm(fresh, { recursive: true, force: true });
  });
});
