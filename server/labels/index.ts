// Class labels: the config's own list, ImageNet-1k's (shipped), or the class index.
import type { CrateConfig } from '../model/config';
import imagenet from './imagenet-1k.json';

export function labelFor(config: CrateConfig): (index: number) => string {
  const labels = config.labels === 'imagenet-1k' ? (imagenet as string[]) : config.labels;
  return (index) => labels?.[index] ?? `class ${index}`;
}
