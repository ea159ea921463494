import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CodeVersion } from './runs';

const run = promisify(execFile);

/** The git commit of `cwd` and whether its work tree has uncommitted changes; `commit: null` outside git. */
export async function gitCodeVersion(cwd = process.cwd()): Promise<CodeVersion> {
  try {
    const [{ stdout: head }, { stdout: status }] = await Promise.all([
      run('git', ['rev-parse', 'HEAD'], { cwd }),
      run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd }),
    ]);
    return { commit: head.trim(), dirty: status.trim().length > 0 };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Not a repository (git exits 128) or no git at all: the run is recorded without a commit.
    if (code === 128 || code === 'ENOENT') return { commit: null, dirty: false };
    throw error;
  }
}
