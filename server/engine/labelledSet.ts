// Labelled image sets for evaluation: a labels.csv (path,label) or one folder per class.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isImagePath } from '../cli/images';

export interface LabelledImage { path: string; label: number }

export class LabelledSetError extends Error {}

function labelIndex(raw: string, classNames: readonly string[] | undefined, where: string): number {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const index = classNames?.indexOf(text) ?? -1;
  if (index < 0) throw new LabelledSetError(`${where}: unknown label '${text}'`);
  return index;
}

function fromCsv(csv: string, classNames?: readonly string[]): LabelledImage[] {
  const base = dirname(csv);
  const lines = readFileSync(csv, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const out: LabelledImage[] = [];
  lines.forEach((line, i) => {
    const comma = line.lastIndexOf(',');
    if (comma < 0) throw new LabelledSetError(`${csv}:${i + 1}: expected 'path,label'`);
    const path = line.slice(0, comma).trim();
    const label = line.slice(comma + 1).trim();
    if (i === 0 && !isImagePath(path) && !/^\d+$/.test(label)) return; // header row
    out.push({ path: resolve(base, path), label: labelIndex(label, classNames, `${csv}:${i + 1}`) });
  });
  return out;
}

/** A CSV file, a folder holding labels.csv, or a folder of class folders (named by index or class name). */
export function readLabelledSet(spec: string, classNames?: readonly string[]): LabelledImage[] {
  if (!existsSync(spec)) throw new LabelledSetError(`no such file or folder: ${spec}`);
  if (!statSync(spec).isDirectory()) return fromCsv(spec, classNames);
  if (existsSync(join(spec, 'labels.csv'))) return fromCsv(join(spec, 'labels.csv'), classNames);
  const out: LabelledImage[] = [];
  for (const name of readdirSync(spec).sort()) {
    const dir = join(spec, name);
    if (!statSync(dir).isDirectory()) continue;
    const label = labelIndex(name, classNames, dir);
    for (const file of readdirSync(dir).sort()) if (isImagePath(file)) out.push({ path: resolve(dir, file), label });
  }
  if (out.length === 0) throw new LabelledSetError(`${spec}: no labels.csv and no class folders with images`);
  return out;
}
