// Resolves an image reference written in a document to an existing file.
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

/** Tries the path as absolute, then relative to the document's folder, then to each workspace folder. */
export function resolveImagePath(ref: string, documentPath: string | undefined, workspaceFolders: readonly string[]): string | undefined {
  const candidates: string[] = [];
  if (isAbsolute(ref)) candidates.push(ref);
  if (documentPath) candidates.push(resolve(dirname(documentPath), ref));
  for (const folder of workspaceFolders) candidates.push(resolve(folder, ref.replace(/^\/+/, '')));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}
