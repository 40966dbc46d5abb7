// Resolves an image reference written in a document to an existing file, and decides whether
// the daemon may read it. Documents are untrusted: a `../` path, an absolute path or a symlink
// in a cloned repository must not make a hover read files outside the workspace.
import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

export interface ResolveContext {
  /** The document's file path; undefined for untitled or non-file documents. */
  documentPath: string | undefined;
  workspaceFolders: readonly string[];
  /** crateLens.security.allowImagesOutsideWorkspace */
  allowOutside: boolean;
}

export type ImageResolution =
  /** `path` is the real path (symlinks resolved): read this one, it is the one that was checked. */
  | { status: 'ok'; path: string }
  /** The file exists, but its real path lies outside every allowed root. */
  | { status: 'outside'; realPath: string; scope: 'workspace' | "document's folder" }
  | { status: 'missing' };

/** The paths `ref` may mean: as absolute, then relative to the document's folder, then to each workspace folder. */
function candidates(ref: string, documentPath: string | undefined, workspaceFolders: readonly string[]): string[] {
  const out: string[] = [];
  if (isAbsolute(ref)) out.push(ref);
  if (documentPath) out.push(resolve(dirname(documentPath), ref));
  for (const folder of workspaceFolders) out.push(resolve(folder, ref.replace(/^\/+/, '')));
  return out;
}

function realFile(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

function realDir(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Whether `file` is `root` itself or lies below it; both are real paths. */
export function isInside(file: string, root: string): boolean {
  const fold = (p: string): string => (process.platform === 'win32' ? p.toLowerCase() : p);
  const rel = relative(fold(root), fold(file));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The roots a reference must stay inside: the workspace folders, or with none open the
 * document's own folder. Real paths, so a symlinked workspace still contains its files.
 */
function allowedRoots(context: ResolveContext): { roots: string[]; scope: 'workspace' | "document's folder" } {
  if (context.workspaceFolders.length > 0) {
    return { roots: context.workspaceFolders.map(realDir).filter((r): r is string => r !== undefined), scope: 'workspace' };
  }
  const folder = context.documentPath ? realDir(dirname(context.documentPath)) : undefined;
  return { roots: folder ? [folder] : [], scope: "document's folder" };
}

/**
 * The first candidate that exists and may be read. A candidate's real path (every symlink
 * followed) must lie inside a root unless the user allowed reading outside; when candidates
 * exist but none may be read, the first one is reported as outside.
 */
export function resolveImagePath(ref: string, context: ResolveContext): ImageResolution {
  const existing = candidates(ref, context.documentPath, context.workspaceFolders)
    .map(realFile)
    .filter((p): p is string => p !== undefined);
  if (existing.length === 0) return { status: 'missing' };
  if (context.allowOutside) return { status: 'ok', path: existing[0] };
  const { roots, scope } = allowedRoots(context);
  const inside = existing.find((p) => roots.some((root) => isInside(p, root)));
  return inside ? { status: 'ok', path: inside } : { status: 'outside', realPath: existing[0], scope };
}

export const ALLOW_OUTSIDE_SETTING = 'crateLens.security.allowImagesOutsideWorkspace';

/** The hover text (plain, not Markdown) for a reference that resolves outside what may be read. */
export function outsideMessage(ref: string, resolution: Extract<ImageResolution, { status: 'outside' }>): string {
  return `${ref} resolves outside the ${resolution.scope} (${resolution.realPath}); set ${ALLOW_OUTSIDE_SETTING} to allow`;
}
