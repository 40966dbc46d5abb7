// Class labels: the config's own list, ImageNet-1k's (shipped), or the class index.
import type { CrateConfig } from '../model/config';
import imagenet from './imagenet-1k.json';

export function labelFor(config: CrateConfig): (index: number) => string {
  // A 1000-class model without labels of its own is taken to be an ImageNet-1k classifier.
  const named = config.labels ?? (config.numClasses === 1000 ? 'imagenet-1k' : undefined);
  const labels = named === 'imagenet-1k' ? (imagenet as string[]) : named;
  return (index) => labels?.[index] ?? `class ${index}`;
}
