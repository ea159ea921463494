import type { Approval, LineageGraph, ModelVersionInfo, Principal, Run, Store } from '../../store';
import type { ArtifactStore } from '../artifacts/store';
import type { BootstrapIntervals } from '../common/metrics/bootstrap';
import type { QualityReport } from '../data/quality';
import type { EvaluationReport } from '../evaluate/classifier';
import type { FairnessReportArtifact } from '../evaluate/fairness';
import {
  bestReport,
  evaluationViews,
  fairnessView,
  runReports,
  type FoundReport,
  type GateOutcome,
  type ReportViews,
} from '../evaluate/report-views';
import type { RobustnessReportArtifact } from '../evaluate/robustness';
import type { StepStore } from '../library';
import type { CardDeclaration } from './steps';

/** The lineage port of the registering step's output that is the version's card. */
export const CARD_PORT = 'card';

/** The model card of a version: what a reviewer needs to judge it, stored as an artifact beside it. */
export interface ModelCard {
  kind: 'kiln.modelCard';
  version: 1;
  model: { name: string; version: number; artifactSha256: string; registeredAt: string; registeredBy: string };
  /** What the pipeline declares: intended use, owner, known limitations. */
  declared: CardDeclaration;
  run: {
    id: string;
    pipeline: string;
    planHash: string;
    code: { commit: string | null; dirty: boolean | null };
    params: Record<string, unknown>;
    startedAt: string;
  } | null;
  data: {
    /** Files and tables the pipeline read, by content hash. */
    sources: Array<{ kind: string; uri: string; sha256: string; size: number }>;
    /** What the model's training step read. */
    training: Array<{ port: string; kind: string; sha256: string; rows: number | null }>;
    evaluation: { sha256: string; rows: number } | null;
    quality: Array<{ dataset: string; rows: number; passed: boolean; checks: number; failed: string[] }>;
  };
  /** Each metric with its 95% bootstrap interval when the evaluation recorded one. */
  metrics: Array<{ name: string; value: number; low: number | null; high: number | null }>;
  confidence: Omit<BootstrapIntervals, 'intervals'> | null;
  curves: ReportViews['curves'];
  confusion: ReportViews['confusion'];
  /** Expected and maximum calibration error of the scored class. */
  calibration: { ece: number; mce: number } | null;
  fairness: ReportViews['fairness'];
  robustness: {
    clean: Record<string, number>;
    noise: { scale: number; flipRate: number | null; drop: Record<string, number> };
    missing: { fraction: number; flipRate: number | null; drop: Record<string, number> };
    worstSlice: { column: string; slice: string; count: number; metrics: Record<string, number> } | null;
  } | null;
  /** The version `production` pointed at when this one was registered, and the metrics both share. */
  champion: { version: number; metrics: Array<{ name: string; champion: number; challenger: number }> } | null;
  approvals: Array<{ gate: string; decision: string; by: string; at: string; reason: string | null }>;
  lineage: {
    steps: Array<{ node: string; step: string; run: string }>;
    artifacts: Array<{ kind: string; sha256: string }>;
    truncated: boolean;
  };
}

/** What a card is made of, read from the store and the artifact store; both the step and `kiln card` supply it. */
export interface CardSources {
  version: ModelVersionInfo;
  declared: CardDeclaration;
  run: Run | null;
  /** The run's report artifacts. */
  reports: FoundReport[];
  /** The report the version was registered with, when it is an evaluation. */
  evaluation: EvaluationReport | null;
  champion: ModelVersionInfo | null;
  approvals: Approval[];
  upstream: LineageGraph;
}

/** An evaluation report of the version this card reads (2: with calibration); an older or foreign one is left out. */
const isEvaluation = (
  report: Record<string, unknown> | undefined,
): report is EvaluationReport & Record<string, unknown> =>
  report?.kind === 'kiln.evaluation' &&
  report.version === 2 &&
  Array.isArray(report.roc) &&
  Array.isArray(report.calibration) &&
  typeof report.confusionMatrix === 'object';

const isRef = (v: unknown): v is { kind: string; sha256: string } =>
  typeof v === 'object' && v !== null && typeof (v as { sha256?: unknown }).sha256 === 'string';

/** The references a step output names at its top level (`report`, `dataset`, `model`). */
export const outputRefs = (output: unknown) =>
  Object.values((output as Record<string, unknown> | null) ?? {}).filter(isRef);

/** Reads what a card needs, through the store a step gets. */
export async function cardSources(
  store: StepStore,
  artifacts: ArtifactStore,
  version: ModelVersionInfo,
  declared: CardDeclaration,
  reportUri: string | undefined,
): Promise<CardSources> {
  const run = version.runId ? ((await store.runs.getRun(version.runId)) ?? null) : null;
  const reports = run ? await runReports(await store.steps.listSteps(run.id), artifacts, outputRefs) : [];
  const given = reportUri ? await artifacts.readJson<Record<string, unknown>>(reportUri) : undefined;
  const evaluation = [given, bestReport(reports, 'kiln.evaluation', version.artifactSha256)?.report].find(isEvaluation);
  const production = await store.registry.getModelVersion(version.model, 'production').catch((error: unknown) => {
    if ((error as Error).name === 'NotFoundError') return null;
    throw error;
  });
  return {
    version,
    declared,
    run,
    reports,
    evaluation: evaluation ?? null,
    champion: production && production.version !== version.version ? production : null,
    approvals: run ? await store.decisions.listDecisions() : [],
    upstream: await store.lineage.upstream({ artifact: version.artifactSha256 }),
  };
}

const rowsOf = (stats: Record<string, unknown> | null | undefined): number | null =>
  typeof stats?.rows === 'number' ? stats.rows : null;

/** The card, from what was read: pure, so the same sources give the same card. */
export function modelCard(s: CardSources): ModelCard {
  const { version, evaluation, upstream } = s;
  const fairness = bestReport(s.reports, 'kiln.fairness', version.artifactSha256);
  const robustness = bestReport(s.reports, 'kiln.robustness', version.artifactSha256)?.report as
    RobustnessReportArtifact | undefined;
  const intervals = evaluation?.confidence?.intervals ?? {};
  const values: Record<string, number> = { ...(evaluation?.metrics ?? {}), ...version.metrics };
  const views = evaluation ? evaluationViews(evaluation) : null;
  const artifactsById = new Map(upstream.nodes.flatMap((n) => (n.type === 'artifact' ? [[n.id, n] as const] : [])));
  const producer = upstream.edges.find(
    (e) => e.type === 'output' && e.to === `artifact:${version.artifactSha256}`,
  )?.from;
  const produced = new Set(upstream.edges.filter((e) => e.type === 'output').map((e) => e.to));
  return {
    kind: 'kiln.modelCard',
    version: 1,
    model: {
      name: version.model,
      version: version.version,
      artifactSha256: version.artifactSha256,
      registeredAt: new Date(version.createdAt).toISOString(),
      registeredBy: version.createdBy,
    },
    declared: s.declared,
    run: s.run && {
      id: s.run.id,
      pipeline: s.run.pipelineName,
      planHash: s.run.planHash,
      code: { commit: s.run.codeCommit, dirty: s.run.codeDirty },
      params: s.run.params,
      startedAt: new Date(s.run.startedAt).toISOString(),
    },
    data: {
      sources: [...artifactsById.values()]
        .filter((a) => !produced.has(a.id))
        .map((a) => ({ kind: a.kind, uri: a.uri, sha256: a.sha256, size: a.size })),
      training: upstream.edges
        .filter((e) => e.type === 'input' && e.to === producer && artifactsById.has(e.from))
        .map((e) => {
          const a = artifactsById.get(e.from)!;
          return { port: e.port ?? '', kind: a.kind, sha256: a.sha256, rows: rowsOf(a.stats) };
        }),
      evaluation: evaluation ? evaluation.dataset : null,
      quality: s.reports
        .filter((f) => f.report.kind === 'kiln.dataQuality')
        .map(({ report }) => {
          const q = report as unknown as QualityReport;
          return {
            dataset: q.dataset.sha256,
            rows: q.dataset.rows,
            passed: q.passed,
            checks: q.checks.length,
            failed: q.checks.filter((c) => !c.passed).map((c) => (c.column ? `${c.column}: ${c.check}` : c.check)),
          };
        }),
    },
    metrics: Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([name, value]) => ({
        name,
        value,
        low: intervals[name]?.low ?? null,
        high: intervals[name]?.high ?? null,
      })),
    confidence: evaluation?.confidence
      ? {
          level: evaluation.confidence.level,
          resamples: evaluation.confidence.resamples,
          seed: evaluation.confidence.seed,
        }
      : null,
    curves: views?.curves ?? { class: null, roc: [], pr: [], calibration: [] },
    confusion: views?.confusion ?? null,
    calibration: evaluation?.calibration[0]
      ? { ece: evaluation.calibration[0].ece, mce: evaluation.calibration[0].mce }
      : null,
    fairness: fairness
      ? fairnessView(
          fairness.report as unknown as FairnessReportArtifact,
          (fairness.output.outcomes as GateOutcome[] | undefined) ?? [],
        )
      : null,
    robustness: robustness
      ? {
          clean: robustness.clean,
          noise: { scale: robustness.noise.scale, flipRate: robustness.noise.flipRate, drop: robustness.noise.drop },
          missing: {
            fraction: robustness.missing.fraction,
            flipRate: robustness.missing.flipRate,
            drop: robustness.missing.drop,
          },
          worstSlice: robustness.worstSlice && {
            column: robustness.worstSlice.column,
            slice: robustness.worstSlice.slice,
            count: robustness.worstSlice.count,
            metrics: robustness.worstSlice.metrics,
          },
        }
      : null,
    champion: s.champion && {
      version: s.champion.version,
      metrics: Object.keys(s.champion.metrics)
        .filter((k) => k in values)
        .map((name) => ({ name, champion: s.champion!.metrics[name]!, challenger: values[name]! })),
    },
    approvals: approvalsOf(s.approvals),
    lineage: {
      steps: upstream.nodes.flatMap((n) =>
        n.type === 'step' ? [{ node: n.nodeId, step: n.step.name, run: n.runId }] : [],
      ),
      artifacts: [...artifactsById.values()].map((a) => ({ kind: a.kind, sha256: a.sha256 })),
      truncated: upstream.truncated,
    },
  };
}

/** Who decided each approval gate of the run, and when. */
export const approvalsOf = (approvals: readonly Approval[]): ModelCard['approvals'] =>
  approvals.map((a) => ({
    gate: a.gate,
    decision: a.decision,
    by: a.decidedBy,
    at: new Date(a.decidedAt).toISOString(),
    reason: a.reason,
  }));

/** A version without a stored card, or whose card's content is gone. */
export class ModelCardNotFoundError extends Error {
  constructor(subject: string, why: string) {
    super(`model ${subject} has no model card: ${why}`);
    this.name = 'ModelCardNotFoundError';
  }
}

/**
 * The card `registry.register` stored for a version (found through the lineage of its registering
 * step), with the run's approvals as the store holds them now: a release gate is usually decided
 * after the version is registered.
 */
export async function loadModelCard(
  store: Store,
  artifacts: ArtifactStore,
  actor: Principal,
  name: string,
  versionOrAlias: number | string,
): Promise<ModelCard> {
  const version = await store.registry.getModelVersion(actor, name, versionOrAlias);
  const subject = `${version.model}@${version.version}`;
  if (!version.runId) throw new ModelCardNotFoundError(subject, 'it was registered outside a run');
  const graph = await store.lineage.downstream(actor, { artifact: version.artifactSha256 }, { maxDepth: 1 });
  const register = graph.nodes.find(
    (n) => n.type === 'step' && n.step.name === 'registry.register' && n.runId === version.runId,
  );
  const card = graph.edges.find((e) => e.type === 'output' && e.from === register?.id && e.port === CARD_PORT);
  if (!card)
    throw new ModelCardNotFoundError(subject, 'its registering step stored none (registered before model cards)');
  const sha256 = card.to.replace(/^artifact:/, '');
  const [row] = await store.artifacts.getArtifacts(actor, [sha256]);
  if (row?.contentDeletedAt)
    throw new ModelCardNotFoundError(subject, `its content ${sha256.slice(0, 12)} was deleted by retention (kiln gc)`);
  const stored = await artifacts.readJson<ModelCard>(`artifact:sha256:${sha256}`);
  return { ...stored, approvals: approvalsOf(await store.decisions.listDecisions(actor, version.runId)) };
}
