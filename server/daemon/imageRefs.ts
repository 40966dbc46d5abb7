// Finds references to image files in any text: Markdown links, HTML src, quoted strings, bare paths.

export const IMAGE_EXTENSION_PATTERN = 'png|jpe?g|webp|gif|bmp';

export interface ImageRef {
  /** The path as written (URL-decoded for file: URIs). */
  path: string;
  /** Character offsets of the reference within the searched text. */
  start: number;
  end: number;
}

// A path: optional scheme/drive/./../ prefix, then segments without quotes, brackets, spaces or
// parentheses, ending in an image extension. Angle-bracketed Markdown targets may contain spaces.
const PATH = String.raw`(?:file:\/\/)?(?:[A-Za-z]:)?[^\s"'\`<>()\[\]{}|,;=]*?\.(?:${IMAGE_EXTENSION_PATTERN})`;
const ANGLED = String.raw`<([^<>\n]+?\.(?:${IMAGE_EXTENSION_PATTERN}))>`;
const PATTERN = new RegExp(`${ANGLED}|(${PATH})(?![A-Za-z0-9_])`, 'gi');

/** Every image reference in `text` (one line or a whole document). */
export function findImageRefs(text: string): ImageRef[] {
  const refs: ImageRef[] = [];
  for (const m of text.matchAll(PATTERN)) {
    const angled = m[1] !== undefined;
    const raw = angled ? m[1] : m[2];
    if (!raw) continue;
    const start = m.index! + (angled ? 1 : 0);
    // URLs other than file: are not local images.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) && !raw.toLowerCase().startsWith('file://')) continue;
    if (isPrecededByUrlScheme(text, m.index!)) continue;
    refs.push({ path: decodePath(raw), start, end: start + raw.length });
  }
  return refs;
}

/** The reference covering `offset`, if any. */
export function imageRefAt(text: string, offset: number): ImageRef | undefined {
  return findImageRefs(text).find((r) => offset >= r.start && offset <= r.end);
}

function isPrecededByUrlScheme(text: string, index: number): boolean {
  // "https://host/a.png" is matched from "//host..." or "host/..." onwards: look back for "scheme:".
  const before = text.slice(Math.max(0, index - 12), index);
  return /[a-z][a-z0-9+.-]*:\/*$/i.test(before) && !/file:\/*$/i.test(before);
}

function decodePath(raw: string): string {
  if (!raw.toLowerCase().startsWith('file://')) return raw;
  try {
    return decodeURIComponent(raw.slice('file://'.length));
  } catch {
    return raw.slice('file://'.length);
  }
}
