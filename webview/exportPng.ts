// A card of the page as a PNG: its pictures and charts drawn where they are on screen, with its
// headings, captions and numbers, on the theme's background. Controls (.no-export) are left out.

const TEXT_SELECTOR = 'h2, h3, figcaption, th, td, .caption, .value, .note';

export function cardToPng(card: HTMLElement, background: string): string {
  const box = card.getBoundingClientRect();
  const scale = Math.max(1, Math.min(3, window.devicePixelRatio || 1)) * 1.5;
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(box.width * scale);
  canvas.height = Math.ceil(box.height * scale);
  const ctx = canvas.getContext('2d')!;
  ctx.scale(scale, scale);
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, box.width, box.height);
  const visible = (el: Element) => !el.closest('.no-export') && (el as HTMLElement).offsetParent !== null;

  for (const el of Array.from(card.querySelectorAll<HTMLImageElement | HTMLCanvasElement>('img, canvas'))) {
    if (!visible(el)) continue;
    if (el instanceof HTMLImageElement && !(el.complete && el.naturalWidth > 0)) continue;
    const r = el.getBoundingClientRect();
    ctx.imageSmoothingEnabled = !(el instanceof HTMLImageElement && getComputedStyle(el).imageRendering === 'pixelated');
    ctx.drawImage(el, r.left - box.left, r.top - box.top, r.width, r.height);
  }

  ctx.textBaseline = 'top';
  for (const el of Array.from(card.querySelectorAll<HTMLElement>(TEXT_SELECTOR))) {
    if (!visible(el) || el.parentElement?.closest(TEXT_SELECTOR)) continue;
    const text = el.innerText.replace(/\s+/g, ' ').trim();
    if (!text) continue;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    ctx.fillStyle = style.color;
    const padLeft = parseFloat(style.paddingLeft) || 0, padTop = parseFloat(style.paddingTop) || 0;
    const align = style.textAlign === 'right' || style.textAlign === 'end' ? 'right' : style.textAlign === 'center' ? 'center' : 'left';
    ctx.textAlign = align;
    const x = align === 'right' ? r.right - box.left - (parseFloat(style.paddingRight) || 0) : align === 'center' ? r.left - box.left + r.width / 2 : r.left - box.left + padLeft;
    ctx.fillText(text, x, r.top - box.top + padTop, r.width);
  }
  return canvas.toDataURL('image/png');
}
