// A small element builder: attributes and children, never inline styles or HTML strings (the CSP
// forbids the first, and text from files never becomes markup).
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'style') throw new Error('inline styles are not allowed');
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

export function byId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T {
  const el = root.querySelector(`#${id}`);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** A figure with an image and a caption; `img.alt` doubles as the caption for screen readers. */
export function figure(className: string, caption: string): { el: HTMLElement; img: HTMLImageElement; caption: HTMLElement } {
  const img = h('img', { class: className, alt: caption, decoding: 'sync' });
  const cap = h('figcaption', {}, caption);
  return { el: h('figure', { class: className }, img, cap), img, caption: cap };
}

export function setImage(img: HTMLImageElement, src: string | undefined): void {
  if (!src) {
    img.removeAttribute('src');
    img.classList.add('empty');
    return;
  }
  img.classList.remove('empty');
  if (img.getAttribute('src') !== src) img.src = src;
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
