import { parseArgs } from 'node:util';
import type { ModelSummary } from '../../store';
import { loadConfig } from '../../runtime/config';
import { caller, withStore } from '../store';

export const help = `kiln models [list] [--json] | promote <name>@<version> --alias A | rollback <name> --alias A | history <name> [--alias A]
  The model registry: models, versions with their metrics, and aliases.
  promote   points an alias (e.g. production) at a version; needs the approver role
  rollback  points the alias back at the version that held it before; needs the approver role
  history   every move of a model's aliases, newest last
  --token TOKEN  act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const metricText = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(' ');

function renderModels(models: ModelSummary[]): string {
  if (models.length === 0) return 'No registered models.';
  return models
    .map((m) => {
      const aliases = Object.entries(m.aliases)
        .map(([a, v]) => `${a} → ${v}`)
        .join(', ');
      const versions = m.versions.map(
        (v) =>
          `    v${v.version}  ${v.artifactSha256.slice(0, 12)}  ${v.createdAt.toISOString()}  by ${v.createdBy}${v.aliases.length ? `  [${v.aliases.join(', ')}]` : ''}  ${metricText(v.metrics)}`,
      );
      return [`${m.name}${aliases ? `  (${aliases})` : ''}`, ...versions].join('\n');
    })
    .join('\n\n');
}

/** `name@3` → ['name', 3]; a version must be a number here: aliases move, versions do not. */
function parseVersioned(text: string | undefined): [string, number] {
  const match = /^(.+)@(\d+)$/.exec(text ?? '');
  if (!match) throw new Error(`expected <name>@<version>, e.g. credit-risk@3; got '${text ?? ''}'`);
  return [match[1]!, Number(match[2])];
}

export async function models(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { alias: { type: 'string' }, json: { type: 'boolean' }, token: { type: 'string' } },
  });
  const [sub = 'list', target] = positionals;
  const config = loadConfig();
  return withStore(config, async (store) => {
    const actor = await caller(store, config, print, values.token);
    const alias = () => {
      if (!values.alias) throw new Error(`which alias? add --alias, e.g. --alias production\n${help}`);
      return values.alias;
    };
    switch (sub) {
      case 'list': {
        const all = await store.registry.listModels(actor);
        print(values.json ? JSON.stringify(all, null, 2) : renderModels(all));
        return 0;
      }
      case 'promote': {
        const [name, version] = parseVersioned(target);
        const move = await store.registry.promote(actor, name, version, alias());
        print(
          move.changed
            ? `${name}: ${move.alias} → v${move.version} (was ${move.previous === null ? 'unset' : `v${move.previous}`}); undo with kiln models rollback ${name} --alias ${move.alias}`
            : `${name}: ${move.alias} already points at v${move.version}`,
        );
        return 0;
      }
      case 'rollback': {
        if (!target) throw new Error(`rollback which model? usage:\n${help}`);
        const move = await store.registry.rollback(actor, target, alias());
        print(`${target}: ${move.alias} → v${move.version} (was v${move.previous ?? '?'})`);
        return 0;
      }
      case 'history': {
        if (!target) throw new Error(`history of which model? usage:\n${help}`);
        const moves = await store.registry.aliasHistory(actor, target, values.alias);
        const lines = moves.map(
          (m) =>
            `  ${m.at.toISOString()}  ${m.alias}  ${m.action}  v${m.previous ?? '-'} → v${m.version}  by ${m.actor}`,
        );
        print(values.json ? JSON.stringify(moves, null, 2) : lines.join('\n') || 'No alias moves.');
        return 0;
      }
      default:
        throw new Error(`unknown models command '${sub}'\n${help}`);
    }
  });
}
