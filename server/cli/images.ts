// Expands the CLI's IMAGE|FOLDER arguments into image files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp'];

export function isImagePath(path: string): boolean {
  const lower = path.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Folders are searched recursively (sorted, hidden entries skipped); files are kept whatever their name. */
export function expandImages(args: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (isImagePath(name)) out.push(path);
    }
  };
  for (const arg of args) {
    let stat;
    try {
      stat = statSync(arg);
    } catch {
      throw new Error(`no such file or folder: ${arg}`);
    }
    if (stat.isDirectory()) walk(arg);
    else out.push(arg);
  }
  return out;
}
