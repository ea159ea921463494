import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import { loadModelCard } from '../../activities/registry/card';
import { cardHtml, cardMarkdown } from '../../activities/registry/card-render';
import { loadConfig } from '../../runtime/config';
import { caller, withStore } from '../store';

export const help = `kiln card <name>@<version|alias> [--md | --html | --json]
  The model card registry.register stored for a version: intended use and owner, data by hash,
  metrics with 95% bootstrap intervals, fairness against its gates, robustness, calibration,
  champion comparison, approvals, code version, plan hash and lineage.
  --md    Markdown, plain tables (the default)
  --html  one self-contained HTML page; ROC and calibration curves as inline SVG
  --json  the card document
  --token TOKEN  act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

/** `credit-risk@3` or `credit-risk@production`. */
function parseTarget(text: string | undefined): [string, string] {
  const match = /^([^@\s]+)@([^@\s]+)$/.exec(text ?? '');
  if (!match) throw new Error(`expected <name>@<version or alias>, e.g. credit-risk@3; got '${text ?? ''}'`);
  return [match[1]!, match[2]!];
}

export async function card(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      md: { type: 'boolean' },
      html: { type: 'boolean' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  const [name, version] = parseTarget(positionals[0]);
  if ([values.md, values.html, values.json].filter(Boolean).length > 1)
    throw new Error('choose one of --md, --html and --json');
  const config = loadConfig();
  return withStore(config, async (store) => {
    const principal = await caller(store, config, print, values.token);
    const found = await loadModelCard(store, new ArtifactStore(config.artifactsDir), principal, name, version);
    print(values.html ? cardHtml(found) : values.json ? JSON.stringify(found, null, 2) : cardMarkdown(found));
    return 0;
  });
}
