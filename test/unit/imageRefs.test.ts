import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findImageRefs, imageRefAt } from '../../server/daemon/imageRefs';

const paths = (text: string) => findImageRefs(text).map((r) => [r.path, text.slice(r.start, r.end)]);

describe('image references in text', () => {
  it('finds Markdown, code-quoted and bare paths', () => {
    assert.deepEqual(paths('![sneaker](images/0042-sneaker.png) and `demo/x.jpg`'), [['images/0042-sneaker.png', 'images/0042-sneaker.png'], ['demo/x.jpg', 'demo/x.jpg']]);
    assert.deepEqual(paths('img = Image.open("demo/images/0001-trouser.png")'), [['demo/images/0001-trouser.png', 'demo/images/0001-trouser.png']]);
    assert.deepEqual(paths('path: /abs/dir/pic.JPEG, other: ../up/pic.bmp;'), [['/abs/dir/pic.JPEG', '/abs/dir/pic.JPEG'], ['../up/pic.bmp', '../up/pic.bmp']]);
    assert.deepEqual(paths('<img src="./a/b.webp">'), [['./a/b.webp', './a/b.webp']]);
  });

  it('handles spaces in angle brackets and file: URIs, and skips web URLs and non-images', () => {
    assert.deepEqual(paths('see <my folder/with space.png> ok'), [['my folder/with space.png', 'my folder/with space.png']]);
    assert.deepEqual(paths('file:///tmp/some%20dir/a.png'), [['/tmp/some dir/a.png', 'file:///tmp/some%20dir/a.png']]);
    assert.deepEqual(paths('https://example.com/cat.png http://x/y.gif a.pngx notes.txt'), []);
  });

  it('finds the reference under a position', () => {
    const line = 'a b.png c.jpg';
    assert.equal(imageRefAt(line, 3)?.path, 'b.png');
    assert.equal(imageRefAt(line, 10)?.path, 'c.jpg');
    assert.equal(imageRefAt(line, 0), undefined);
  });
});
