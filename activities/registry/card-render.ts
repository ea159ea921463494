import * as echarts from 'echarts';
import type { ModelCard } from './card';

const fmt = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(4);

const interval = (m: ModelCard['metrics'][number]) =>
  m.low === null || m.high === null ? '–' : `[${fmt(m.low)}, ${fmt(m.high)}]`;

/** A card as sections of headed tables: both renderers walk the same list, so they show the same facts. */
interface Section {
  title: string;
  /** Lines of prose, each user-controlled text as it was declared. */
  text?: string[];
  table?: { head: string[]; rows: string[][] };
  chart?: 'roc' | 'calibration';
}

function sections(card: ModelCard): Section[] {
  const { declared, run, data } = card;
  const level = card.confidence ? `${Math.round(card.confidence.level * 100)}%` : '95%';
  return [
    {
      title: 'Intended use',
      text: [
        `Intended use: ${declared.intendedUse ?? 'not declared'}`,
        `Owner: ${declared.owner ?? 'not declared'}`,
        ...(declared.limitations ?? []).map((l) => `Limitation: ${l}`),
      ],
    },
    {
      title: 'Provenance',
      table: {
        head: ['field', 'value'],
        rows: [
          ['artifact', card.model.artifactSha256],
          ['registered', `${card.model.registeredAt} by ${card.model.registeredBy}`],
          ['pipeline', run?.pipeline ?? '–'],
          ['run', run?.id ?? '–'],
          ['plan hash', run?.planHash ?? '–'],
          [
            'code version',
            run ? `${run.code.commit ?? 'unknown'}${run.code.dirty ? ' (uncommitted changes)' : ''}` : '–',
          ],
          ['params', run ? JSON.stringify(run.params) : '–'],
        ],
      },
    },
    {
      title: 'Data',
      table: {
        head: ['role', 'kind', 'sha256', 'rows / size'],
        rows: [
          ...data.sources.map((s) => ['source', `${s.kind} ${s.uri}`, s.sha256, `${s.size} bytes`]),
          ...data.training.map((t) => [`training (${t.port})`, t.kind, t.sha256, fmt(t.rows)]),
          ...(data.evaluation ? [['evaluation', 'dataset', data.evaluation.sha256, fmt(data.evaluation.rows)]] : []),
        ],
      },
    },
    {
      title: 'Data quality',
      table: {
        head: ['dataset', 'rows', 'checks', 'result'],
        rows: data.quality.map((q) => [
          q.dataset,
          fmt(q.rows),
          fmt(q.checks),
          q.passed ? 'passed' : `failed: ${q.failed.join('; ')}`,
        ]),
      },
    },
    {
      title: 'Metrics',
      text: card.confidence
        ? [
            `${level} percentile bootstrap intervals, ${card.confidence.resamples} resamples, seed ${card.confidence.seed}.`,
          ]
        : ['No bootstrap intervals were recorded by the evaluation.'],
      table: {
        head: ['metric', 'value', `${level} interval`],
        rows: card.metrics.map((m) => [m.name, fmt(m.value), interval(m)]),
      },
    },
    { title: `ROC curve${card.curves.class ? ` (class ${card.curves.class})` : ''}`, chart: 'roc' },
    {
      title: 'Calibration',
      text: card.calibration
        ? [`Expected calibration error ${fmt(card.calibration.ece)}, maximum ${fmt(card.calibration.mce)}.`]
        : ['No calibration on record.'],
      table: {
        head: ['mean predicted', 'observed', 'rows'],
        rows: card.curves.calibration.map((b) => [fmt(b.predicted), fmt(b.observed), fmt(b.count)]),
      },
      chart: 'calibration',
    },
    {
      title: 'Fairness by group',
      table: card.fairness
        ? {
            head: ['group', 'rows', 'selection rate', 'TPR', 'FPR', 'disparate impact'],
            rows: card.fairness.groups.map((g) => [
              g.group,
              fmt(g.count),
              fmt(g.selectionRate),
              fmt(g.truePositiveRate),
              fmt(g.falsePositiveRate),
              fmt(g.disparateImpact),
            ]),
          }
        : { head: ['fairness'], rows: [['no fairness evaluation on record']] },
    },
    {
      title: 'Fairness gates',
      table: {
        head: ['gate', 'value', 'bound', 'verdict'],
        rows: (card.fairness?.gates ?? []).map((g) => [
          g.metric,
          fmt(g.value),
          `${g.bound} ${fmt(g.threshold)}`,
          g.passes ? 'passes' : 'FAILS',
        ]),
      },
    },
    {
      title: 'Robustness',
      table: card.robustness
        ? {
            head: ['perturbation', 'flip rate', 'metric drops'],
            rows: [
              [
                `noise ×${fmt(card.robustness.noise.scale)}`,
                fmt(card.robustness.noise.flipRate),
                drops(card.robustness.noise.drop),
              ],
              [
                `missing ${fmt(card.robustness.missing.fraction)}`,
                fmt(card.robustness.missing.flipRate),
                drops(card.robustness.missing.drop),
              ],
              ...(card.robustness.worstSlice
                ? [
                    [
                      `worst slice ${card.robustness.worstSlice.column} = ${card.robustness.worstSlice.slice} (${card.robustness.worstSlice.count} rows)`,
                      '–',
                      drops(card.robustness.worstSlice.metrics),
                    ],
                  ]
                : []),
            ],
          }
        : { head: ['robustness'], rows: [['no robustness evaluation on record']] },
    },
    {
      title: 'Champion comparison',
      table: card.champion
        ? {
            head: ['metric', `champion v${card.champion.version}`, `v${card.model.version}`],
            rows: card.champion.metrics.map((m) => [m.name, fmt(m.champion), fmt(m.challenger)]),
          }
        : { head: ['champion'], rows: [['no production version to compare with']] },
    },
    {
      title: 'Approvals',
      table: {
        head: ['gate', 'decision', 'by', 'at', 'reason'],
        rows: card.approvals.map((a) => [a.gate, a.decision, a.by, a.at, a.reason ?? '']),
      },
    },
    {
      title: `Lineage${card.lineage.truncated ? ' (truncated)' : ''}`,
      table: {
        head: ['step', 'node', 'run'],
        rows: card.lineage.steps.map((s) => [s.step, s.node, s.run]),
      },
    },
  ];
}

const drops = (d: Record<string, number>) =>
  Object.entries(d)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ') || '–';

const title = (card: ModelCard) => `Model card: ${card.model.name}@${card.model.version}`;

/** Markdown: pipes and line breaks would end a cell, and a renderer would run raw HTML, so both are escaped. */
const mdCell = (text: string) => escapeHtml(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The card as Markdown: plain tables, no charts (the calibration table holds the curve's points). */
export function cardMarkdown(card: ModelCard): string {
  const out = [`# ${mdCell(title(card))}`, ''];
  for (const s of sections(card)) {
    if (s.chart === 'roc') continue;
    out.push(`## ${s.title}`, '');
    for (const line of s.text ?? []) out.push(mdCell(line), '');
    if (s.table && s.table.rows.length > 0) {
      out.push(`| ${s.table.head.map(mdCell).join(' | ')} |`, `|${s.table.head.map(() => ' --- |').join('')}`);
      for (const row of s.table.rows) out.push(`| ${row.map(mdCell).join(' | ')} |`);
      out.push('');
    } else if (s.table) out.push('(none)', '');
  }
  return out.join('\n');
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Every text the card holds came from a pipeline, a dataset or a person: none of it is markup. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** A line chart as an SVG string, drawn by ECharts' server-side renderer. */
function svgChart(
  series: Array<{ name: string; points: Array<[number, number]>; dashed?: boolean }>,
  axes: [string, string],
) {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 420, height: 320 });
  try {
    chart.setOption({
      animation: false,
      legend: { top: 0 },
      grid: { left: 50, right: 16, top: 32, bottom: 44 },
      xAxis: { type: 'value', min: 0, max: 1, name: axes[0], nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', min: 0, max: 1, name: axes[1], nameLocation: 'middle', nameGap: 34 },
      series: series.map((s) => ({
        name: s.name,
        type: 'line',
        showSymbol: false,
        data: s.points,
        lineStyle: s.dashed ? { type: 'dashed', width: 1 } : { width: 2 },
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function chartOf(card: ModelCard, kind: 'roc' | 'calibration'): string {
  const diagonal = { name: 'chance', points: [[0, 0] as [number, number], [1, 1] as [number, number]], dashed: true };
  if (kind === 'roc')
    return card.curves.roc.length === 0
      ? '<p>No ROC curve on record.</p>'
      : svgChart(
          [{ name: 'ROC', points: card.curves.roc.map((p) => [p.fpr, p.tpr]) }, diagonal],
          ['false positive rate', 'true positive rate'],
        );
  return card.curves.calibration.length === 0
    ? ''
    : svgChart(
        [
          { name: 'model', points: card.curves.calibration.map((b) => [b.predicted, b.observed]) },
          { ...diagonal, name: 'perfect' },
        ],
        ['mean predicted probability', 'observed frequency'],
      );
}

/** The card as one self-contained HTML page; the curves are inline SVG. */
export function cardHtml(card: ModelCard): string {
  const body = sections(card).map((s) => {
    const parts = [`<h2>${escapeHtml(s.title)}</h2>`];
    for (const line of s.text ?? []) parts.push(`<p>${escapeHtml(line)}</p>`);
    if (s.chart) parts.push(`<figure>${chartOf(card, s.chart)}</figure>`);
    if (s.table && s.table.rows.length > 0)
      parts.push(
        `<table><thead><tr>${s.table.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${s.table.rows
          .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`,
      );
    else if (s.table) parts.push('<p>(none)</p>');
    return `<section>${parts.join('\n')}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title(card))}</title>
<style>body{font:14px system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-variant-numeric:tabular-nums}th{background:#f4f4f4}</style>
</head><body><h1>${escapeHtml(title(card))}</h1>
${body.join('\n')}
</body></html>
`;
}
