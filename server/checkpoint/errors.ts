// Errors raised by the checkpoint readers. Every failure to read a file is a
// CheckpointError so callers can show one clear line instead of a stack trace.

export class CheckpointError extends Error {
  /** `cause` is set only when an unexpected JS error was converted, which tests use to find unchecked paths. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

/** A pickle asked for a Python global outside the allowlist; nothing was executed. */
export class ForbiddenGlobalError extends CheckpointError {
  readonly global: string;
  constructor(global: string, message?: string) {
    const shown = printable(global);
    super(message ?? `checkpoint refused: pickle references forbidden global '${shown}'${hintFor(shown)}`);
    this.name = 'ForbiddenGlobalError';
    this.global = shown;
  }
}

/** Names come from untrusted bytes: keep messages on one line and short. */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

// A whole pickled nn.Module is the most common legitimate reason to hit the allowlist.
function hintFor(global: string): string {
  if (global.startsWith('__main__.') || global.startsWith('torch.nn.') || global.startsWith('__torch__.')) {
    return ' (the file holds a pickled model object; save model.state_dict() instead)';
  }
  return '';
}
