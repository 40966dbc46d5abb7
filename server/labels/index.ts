// Class labels: the config's own list, ImageNet-1k's (shipped), or the class index.
import type { CrateConfig } from '../model/config';
import imagenet from './imagenet-1k.json';

/** The class names, when the config has them; a 1000-class model without its own is taken to be an ImageNet-1k classifier. */
export function labelNames(config: CrateConfig): string[] | undefined {
  const named = config.labels ?? (config.numClasses === 1000 ? 'imagenet-1k' : undefined);
  return named === 'imagenet-1k' ? (imagenet as string[]) : named;
}

export function labelFor(config: CrateConfig): (index: number) => string {
  const labels = labelNames(config);
  return (index) => labels?.[index] ?? `class ${index}`;
}
