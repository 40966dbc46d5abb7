// Command-line parsing for crate-lens: one-line errors for anything malformed.
import { parseArgs } from 'node:util';
import type { ResizeMode } from '../model/config';
import type { HeadFusion } from '../analysis/rollout';

export class UsageError extends Error {}

export const USAGE = `usage:
  crate-lens analyze IMAGE|FOLDER... [--checkpoint PATH] [--config PATH | --preset NAME] [--heads N]
                     [--image-size PX] [--resize squash|center-crop] [--backend cpu|auto|webgpu] [--format json|text] [--out DIR]
                     [--layer N] [--head N|mean] [--rollout-fusion mean|max|min] [--rollout-discard F]
                     [--batch N] [--top K]
  crate-lens eval LABELS.csv|FOLDER [--checkpoint PATH] [--config PATH | --preset NAME] [--heads N]
                  [--image-size PX] [--segmentation] [--batch N] [--format json|text]
  crate-lens inspect [CHECKPOINT] [--config PATH | --preset NAME] [--heads N] [--image-size PX] [--format json|text]
  crate-lens --help | --version
Without a checkpoint, the embedded default model (a CRATE trained on Fashion-MNIST) is used.
The family (CRATE, CRATE-alpha or CRATE-MAE) is read from the checkpoint's keys. Presets: tiny, small, base, large
(CRATE); alpha-B/P, alpha-L/P, alpha-H/P with P = 32, 16, 14 or 8 (CRATE-alpha);
demo-base-8, demo-base-16 (the emergence paper's demo models, 6 heads of 128); mae-base (CRATE-MAE).

--image-size analyses at another size than the model was trained at: the position embedding's patch
grid is resized (timm's bicubic resample unless the config's posEmbedResize says otherwise).`;

export interface ModelArgs { /** undefined: the embedded default model */ checkpoint?: string; config?: string; preset?: string; heads?: number; imageSize?: number; resize?: ResizeMode; backend: 'cpu' | 'auto' | 'webgpu' }

export interface AnalyzeArgs extends ModelArgs {
  command: 'analyze';
  images: string[];
  format: 'json' | 'text';
  out?: string;
  layer: number;
  head: number | 'mean';
  rolloutFusion: HeadFusion;
  rolloutDiscard: number;
  batch: number;
  top: number;
}

export interface InspectArgs extends ModelArgs { command: 'inspect'; format: 'json' | 'text' }

export interface EvalArgs extends ModelArgs { command: 'eval'; set: string; segmentation: boolean; batch: number; format: 'json' | 'text' }

export type CliArgs = AnalyzeArgs | InspectArgs | EvalArgs | { command: 'help' } | { command: 'version' };

function integer(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${value}'`);
  return Number(value);
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

/** `--layer -1` would read as two flags: bind a negative number to the option before it. */
function bindNegativeNumbers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i].startsWith('--') && !argv[i].includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: bindNegativeNumbers(argv),
      allowPositionals: true,
      options: {
        checkpoint: { type: 'string' }, config: { type: 'string' }, preset: { type: 'string' },
        heads: { type: 'string' }, 'image-size': { type: 'string' }, resize: { type: 'string' }, backend: { type: 'string' },
        format: { type: 'string' }, out: { type: 'string' }, layer: { type: 'string' }, head: { type: 'string' },
        'rollout-fusion': { type: 'string' }, 'rollout-discard': { type: 'string' }, batch: { type: 'string' },
        top: { type: 'string' }, segmentation: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return { command: 'help' };
  if (v.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (command !== 'analyze' && command !== 'inspect' && command !== 'eval') {
    throw new UsageError(command ? `unknown command '${command}' (analyze, eval, inspect)` : 'no command given (analyze, eval, inspect)');
  }
  if (v.config && v.preset) throw new UsageError('give --config or --preset, not both');
  const model = {
    config: v.config,
    preset: v.preset,
    heads: integer(v.heads, '--heads', 1),
    imageSize: integer(v['image-size'], '--image-size', 1),
    resize: v.resize === undefined ? undefined : oneOf(v.resize, '--resize', ['squash', 'center-crop'] as const, 'squash'),
    backend: oneOf(v.backend, '--backend', ['cpu', 'auto', 'webgpu'] as const, 'cpu'),
  };
  const format = oneOf(v.format, '--format', ['json', 'text'] as const, 'text');
  if (command === 'inspect') {
    if (rest.length > 1) throw new UsageError(`inspect takes one checkpoint, got ${rest.length}`);
    return { command, checkpoint: rest[0] ?? v.checkpoint, format, ...model };
  }
  if (command === 'eval') {
    if (rest.length !== 1) throw new UsageError('eval needs one LABELS.csv or FOLDER');
    return { command, set: rest[0], checkpoint: v.checkpoint, segmentation: v.segmentation ?? false, batch: integer(v.batch, '--batch', 1) ?? 64, format, ...model };
  }
  if (rest.length === 0) throw new UsageError('analyze needs at least one IMAGE or FOLDER');
  let head: number | 'mean' = 'mean';
  if (v.head !== undefined && v.head !== 'mean') head = integer(v.head, '--head', 0)!;
  const discard = v['rollout-discard'] === undefined ? 0 : Number(v['rollout-discard']);
  if (!(discard >= 0 && discard < 1)) throw new UsageError(`--rollout-discard must be in [0, 1), got '${v['rollout-discard']}'`);
  return {
    command, checkpoint: v.checkpoint, images: rest, format, out: v.out, ...model,
    layer: integer(v.layer, '--layer', -1000000) ?? -1,
    head,
    rolloutFusion: oneOf(v['rollout-fusion'], '--rollout-fusion', ['mean', 'max', 'min'] as const, 'mean'),
    rolloutDiscard: discard,
    batch: integer(v.batch, '--batch', 1) ?? 8,
    top: integer(v.top, '--top', 1) ?? 5,
  };
}
