// Owns the daemon's model: loads one at a time, reloads when settings or the checkpoint file change.
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { chooseBackend } from '../backend/select';
import type { Backend } from '../backend/types';
import { defaultCheckpoint } from '../engine/defaultModel';
import { loadModel, type LoadedModel } from '../engine/loadModel';
import { modelSummary } from '../engine/summary';
import { PRESETS } from '../model/config';
import type { DaemonSettings, DaemonState, ModelSummary } from '../protocol';

export interface ActiveModel {
  model: LoadedModel;
  backend: Backend;
  summary: ModelSummary;
  /** Content hash of the checkpoint plus the resolved config: results are cached under it. */
  id: string;
}

type ModelKey = Pick<DaemonSettings, 'checkpoint' | 'config' | 'backend' | 'resize'>;

const keyOf = (s: DaemonSettings): string => JSON.stringify([s.checkpoint, s.config, s.backend, s.resize]);

export class ModelHost {
  private active: Promise<ActiveModel> | undefined;
  private loaded: ActiveModel | undefined;
  private key = '';
  private generation = 0;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly announce: (state: DaemonState) => void,
    private readonly log: (message: string) => void,
  ) {}

  /** Applies settings; starts a (re)load when they change what the model is. */
  configure(settings: DaemonSettings): void {
    if (settings.blocked) {
      this.key = '';
      void this.replace(Promise.reject(new Error(settings.blocked)), { state: 'blocked', message: settings.blocked });
      return;
    }
    const key = keyOf(settings);
    if (key === this.key && this.active) return;
    this.key = key;
    this.load(settings);
  }

  /** The loaded model, waiting for a load in progress; rejects with the load's error. */
  current(): Promise<ActiveModel> {
    return this.active ?? Promise.reject(new Error('no model configured yet'));
  }

  private load(settings: ModelKey): void {
    const generation = ++this.generation;
    const checkpoint = settings.checkpoint || safeDefault();
    this.announce({ state: 'loading', checkpoint: checkpoint ?? 'default model' });
    const previous = this.active;
    const loading = (async () => {
      // One load at a time: wait for the previous one to settle before reading the next file.
      await previous?.catch(() => undefined);
      if (generation !== this.generation) throw new Error('superseded by a newer model selection');
      const started = performance.now();
      const isPreset = settings.config in PRESETS;
      const model = loadModel({
        checkpoint: settings.checkpoint || undefined,
        config: settings.config && !isPreset ? settings.config : undefined,
        preset: isPreset ? settings.config : undefined,
        resize: settings.resize === 'config' ? undefined : settings.resize,
      });
      const { backend, note } = await chooseBackend(settings.backend, model.config, model.weights);
      if (note) this.log(note);
      const id = createHash('sha1').update(readFileSync(model.checkpointPath)).update(JSON.stringify(model.config)).digest('hex');
      const summary = modelSummary(model, backend);
      this.log(`loaded ${model.checkpointPath} in ${(performance.now() - started).toFixed(0)} ms: ${model.parameters} parameters, config ${summary.configSource}, ${backend.device}`);
      for (const w of summary.configWarnings) this.log(`warning: ${w}`);
      return { model, backend, summary, id };
    })();
    void this.replace(loading);
    this.watch(settings.checkpoint ? checkpoint : undefined, settings.config && !(settings.config in PRESETS) ? settings.config : undefined);
  }

  private async replace(next: Promise<ActiveModel>, state?: DaemonState): Promise<void> {
    const generation = this.generation;
    this.active = next;
    next.catch(() => undefined);
    if (state) this.announce(state);
    try {
      const active = await next;
      const old = this.loaded;
      this.loaded = active;
      if (old && old !== active) await old.backend.dispose();
      if (generation === this.generation) this.announce({ state: 'ready', model: active.summary });
    } catch (e) {
      if (generation !== this.generation || state) return;
      const message = (e as Error).message;
      this.log(`model load failed: ${message}`);
      this.announce({ state: 'error', message });
    }
  }

  /** Reload when the checkpoint or config file changes on disk (replaced, rewritten or deleted). */
  private watch(...files: (string | undefined)[]): void {
    this.watcher?.close();
    this.watcher = undefined;
    const targets = files.filter((f): f is string => !!f);
    if (targets.length === 0) return;
    const dirs = new Set(targets.map((f) => dirname(f)));
    const names = new Set(targets.map((f) => basename(f)));
    const watchers: FSWatcher[] = [];
    for (const dir of dirs) {
      try {
        watchers.push(watch(dir, (_event, name) => {
          if (name && names.has(name.toString())) this.scheduleReload();
        }));
      } catch (e) {
        this.log(`cannot watch ${dir}: ${(e as Error).message}`);
      }
    }
    this.watcher = { close: () => watchers.forEach((w) => w.close()) } as FSWatcher;
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    // Writers often truncate then write: wait for the file to settle.
    this.reloadTimer = setTimeout(() => {
      const settings = JSON.parse(this.key || 'null') as [string, string, DaemonSettings['backend'], DaemonSettings['resize']] | null;
      if (!settings) return;
      this.log('checkpoint or config changed on disk: reloading');
      this.load({ checkpoint: settings[0], config: settings[1], backend: settings[2], resize: settings[3] });
    }, 400);
  }

  async dispose(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
    await this.loaded?.backend.dispose();
  }
}

function safeDefault(): string | undefined {
  try {
    return defaultCheckpoint();
  } catch {
    return undefined;
  }
}
