// Every fixture image decodes to exactly what PIL 9.4 makes of it, and converts like PIL.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convertChannels, decodeImage } from '../../server/image';
import { assertMatches, manifest, readFixture } from '../fixtures/imaging/fixtures';

for (const format of ['png', 'jpeg', 'bmp', 'gif'] as const) {
  describe(`decode ${format}`, () => {
    for (const c of manifest.decode.filter((d) => d.format === format)) {
      test(`${c.name}${c.note ? ` (${c.note})` : ''}`, () => {
        const img = decodeImage(readFixture(c.file));
        assert.equal(img.format, c.format);
        assert.deepEqual([img.width, img.height, img.channels], [c.width, c.height, c.channels], `${c.name}: shape`);
        assertMatches(img.data, c.pixels, `${c.name} pixels`);
        assertMatches(convertChannels(img, 3).data, c.rgb, `${c.name} convert('RGB')`);
        assertMatches(convertChannels(img, 1).data, c.l, `${c.name} convert('L')`);
      });
    }
  });
}
