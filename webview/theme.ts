// The editor's theme as the charts need it, read from VS Code's CSS variables, and told when it changes.

export interface Theme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  /** Layer A, layer B, and a third series colour (dataset means). */
  a: string;
  b: string;
  c: string;
  fontFamily: string;
  fontSize: number;
  /** Wider lines in high contrast. */
  lineWidth: number;
}

const probe = document.createElement('canvas').getContext('2d')!;

/** Any CSS colour as rgba(...) with the given alpha. */
export function withAlpha(color: string, alpha: number): string {
  probe.fillStyle = '#000000';
  probe.fillStyle = color;
  const normal = probe.fillStyle;
  if (normal.startsWith('#')) {
    const n = parseInt(normal.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const m = /rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(normal);
  return m ? `rgba(${m[1].trim()}, ${m[2].trim()}, ${m[3].trim()}, ${alpha})` : color;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function themeKind(): Theme['kind'] {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

export function readTheme(): Theme {
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const hc = kind.startsWith('high-contrast');
  const foreground = cssVar('--vscode-foreground', light ? '#3b3b3b' : '#cccccc');
  return {
    kind,
    foreground,
    muted: cssVar('--vscode-descriptionForeground', light ? '#717171' : '#9d9d9d'),
    grid: hc ? cssVar('--vscode-contrastBorder', foreground) : withAlpha(foreground, 0.15),
    background: cssVar('--vscode-editor-background', light ? '#ffffff' : '#1f1f1f'),
    a: cssVar('--vscode-charts-blue', '#3794ff'),
    b: cssVar('--vscode-charts-orange', '#d18616'),
    c: cssVar('--vscode-charts-green', '#89d185'),
    fontFamily: cssVar('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Math.max(10, (parseFloat(cssVar('--vscode-font-size', '13px')) || 13) - 1),
    lineWidth: hc ? 2.5 : 1.75,
  };
}

/** Calls `listener` with the new theme whenever VS Code switches themes (body classes and the variables on <html>). */
export function onThemeChange(listener: (theme: Theme) => void): void {
  const signature = () => `${document.body.className}|${document.documentElement.getAttribute('style') ?? ''}`;
  let last = signature();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const now = signature();
      if (now === last) return;
      last = now;
      listener(readTheme());
    }, 30);
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}
