import { loadPredictor, type EngineChoice, type Predictor } from './engines';
import { ModelLoadError } from './errors';
import { compileValidator, type BodyValidator } from './signature';
import type { Route, ServingSource, TrafficSplit } from './source';

// One served alias (`credit-risk` `production`): the loaded versions and the split between them.
// A refresh loads whatever the store now routes to, beside the versions serving, then swaps the
// references in one synchronous step: a request already running keeps the version it started
// with, and a retired version is closed once its last request is done. No request waits for a load.

/** A version loaded and ready: its predictor and its request check. */
export interface LoadedVersion {
  readonly version: number;
  readonly predictor: Predictor;
  readonly validate: BodyValidator;
  /** Equal keys: the same features, so one check serves both versions. */
  readonly signatureKey: string;
}

interface Slot extends LoadedVersion {
  inflight: number;
  retired: boolean;
}

/** Where one request goes: the version that answers, and a shadow to mirror it to. */
export interface Pick {
  target: LoadedVersion;
  route: Route;
  shadow: LoadedVersion | null;
  /** Call once the request (and its shadow) is done with the versions. */
  release(): void;
}

export interface ServedModelOptions {
  engine: EngineChoice;
  maxRows: number;
  /** Called after each swap with the versions now served. */
  onSwap?: (model: ServedModel) => void;
}

export class NotServableError extends Error {
  constructor(
    readonly model: string,
    readonly alias: string,
  ) {
    super(
      `model '${model}' has no alias '${alias}' (or no such model) in the registry; promote a version to it first, e.g. kiln models promote ${model}@1 --alias ${alias}`,
    );
    this.name = 'NotServableError';
  }
}

export class ServedModel {
  private current: Slot | undefined;
  private candidate: Slot | null = null;
  private split: TrafficSplit | null = null;
  private refreshing: Promise<boolean> | undefined;
  // Canary routing by credit, not by dice: exactly `percent` of every 100 requests go to the candidate.
  private credit = 0;

  constructor(
    readonly name: string,
    readonly alias: string,
    private readonly source: ServingSource,
    private readonly options: ServedModelOptions,
  ) {}

  get loaded(): boolean {
    return this.current !== undefined;
  }

  /** The versions served now: current, and the candidate with its split during a rollout. */
  get state(): { current: number | null; candidate: number | null; split: TrafficSplit | null } {
    return { current: this.current?.version ?? null, candidate: this.candidate?.version ?? null, split: this.split };
  }

  /** The current version's request check; undefined before the first load. */
  get validator(): LoadedVersion | undefined {
    return this.current;
  }

  /**
   * Loads what the store routes to now and swaps it in; true when anything changed. One refresh
   * runs at a time: a call during another returns that one's result.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<boolean> {
    const routing = await this.source.routing(this.name, this.alias);
    // An alias removed while serving: keep answering with what is loaded rather than fail every request.
    if (!routing) {
      if (this.current) return false;
      throw new NotServableError(this.name, this.alias);
    }
    const split = routing.split && routing.split.candidate !== routing.current ? routing.split : null;
    const current = await this.slot(routing.current);
    let candidate: Slot | null;
    try {
      candidate = split ? await this.slot(split.candidate) : null;
    } catch (error) {
      if (current !== this.current && current !== this.candidate) await current.predictor.close();
      throw error;
    }
    const changed =
      current !== this.current || candidate !== this.candidate || JSON.stringify(split) !== JSON.stringify(this.split);
    if (!changed) return false;
    const before = [this.current, this.candidate];
    this.current = current;
    this.candidate = candidate;
    this.split = candidate ? split : null;
    for (const old of before) if (old && old !== current && old !== candidate) this.retire(old);
    this.options.onSwap?.(this);
    return true;
  }

  /** A version already loaded here (a promoted candidate is not loaded twice), else a new load. */
  private async slot(version: number): Promise<Slot> {
    if (this.current?.version === version) return this.current;
    if (this.candidate?.version === version) return this.candidate;
    const artifact = await this.source.loadVersion(this.name, version);
    const predictor = await loadPredictor(artifact, this.options.engine);
    const { signature } = predictor;
    if (signature.features.length === 0)
      throw new ModelLoadError(this.name, version, 'its signature names no input features');
    return {
      version,
      predictor,
      validate: compileValidator(signature, this.options.maxRows),
      signatureKey: JSON.stringify(signature.features),
      inflight: 0,
      retired: false,
    };
  }

  private retire(slot: Slot): void {
    slot.retired = true;
    if (slot.inflight === 0) void slot.predictor.close();
  }

  private release(slot: Slot): void {
    slot.inflight--;
    if (slot.retired && slot.inflight === 0) void slot.predictor.close();
  }

  /** Routes one request by the split, holding the versions it uses until `release`. */
  pick(): Pick {
    const current = this.current;
    if (!current) throw new Error(`model '${this.name}' is not loaded yet`);
    const candidate = this.candidate;
    let target: Slot = current;
    let route: Route = 'current';
    let shadow: Slot | null = null;
    if (candidate && this.split) {
      if (this.split.mode === 'shadow') shadow = candidate;
      else {
        this.credit += this.split.percent;
        if (this.credit >= 100) {
          this.credit -= 100;
          target = candidate;
          route = 'canary';
        }
      }
    }
    target.inflight++;
    if (shadow) shadow.inflight++;
    let released = false;
    return {
      target,
      route,
      shadow,
      release: () => {
        if (released) return;
        released = true;
        this.release(target);
        if (shadow) this.release(shadow);
      },
    };
  }

  /** Closes every loaded version (the server is stopping). */
  async close(): Promise<void> {
    await this.refreshing?.catch(() => {});
    for (const slot of [this.current, this.candidate]) if (slot) this.retire(slot);
    this.current = undefined;
    this.candidate = null;
  }
}
