import { expect } from 'chai';
import { chooseLegacyPhotoSize, chooseNpfImageSize } from '../../src/tumblr/image-sizes.js';
import { blockAt, loadFixture } from './load-fixture.js';

const M = 'https://64.media.tumblr.com/abc/def-01';

describe(chooseNpfImageSize.name, () => {
  it('should choose the size with has_original_dimensions when it is not first and not the widest', () => {
    const choice = chooseNpfImageSize([
      { type: 'image/jpeg', url: `${M}/s2048x3072/a.jpg`, width: 2048, height: 1536 },
      { type: 'image/jpeg', url: `${M}/s640x960/a.jpg`, width: 640, height: 480 },
      { type: 'image/jpeg', url: `${M}/s1280x1920/a.jpg`, width: 1280, height: 960, has_original_dimensions: true },
    ]);
    expect(choice).to.deep.equal({
      best: { type: 'image/jpeg', url: `${M}/s1280x1920/a.jpg`, width: 1280, height: 960 },
      fallbackUrls: [`${M}/s2048x3072/a.jpg`, `${M}/s640x960/a.jpg`],
    });
  });

  it('should choose the widest size and order the others widest first when no size has original dimensions', () => {
    const choice = chooseNpfImageSize([
      { url: `${M}/s400x600/a.jpg`, width: 400, height: 300 },
      { url: `${M}/s1280x1920/a.jpg`, width: 1280, height: 960 },
      { url: `${M}/s100x200/a.jpg`, width: 100, height: 75 },
      { url: `${M}/s640x960/a.jpg`, width: 640, height: 480 },
    ]);
    expect(choice?.best.url).to.equal(`${M}/s1280x1920/a.jpg`);
    expect(choice?.fallbackUrls).to.deep.equal([`${M}/s640x960/a.jpg`, `${M}/s400x600/a.jpg`, `${M}/s100x200/a.jpg`]);
  });

  it('should leave cropped sizes out, even as fallbacks, when an uncropped size exists', () => {
    const choice = chooseNpfImageSize([
      { url: `${M}/s75x75_c1/a.jpg`, width: 75, height: 75, cropped: true },
      { url: `${M}/s2048x3072_c1/a.jpg`, width: 2048, height: 2048, cropped: true },
      { url: `${M}/s500x750/a.jpg`, width: 500, height: 375 },
    ]);
    expect(choice).to.deep.equal({ best: { url: `${M}/s500x750/a.jpg`, width: 500, height: 375 }, fallbackUrls: [] });
  });

  it('should use cropped sizes, widest first, when nothing uncropped is listed', () => {
    const choice = chooseNpfImageSize([
      { url: `${M}/s75x75_c1/a.jpg`, width: 75, height: 75, cropped: true },
      { url: `${M}/s250x250_c1/a.jpg`, width: 250, height: 250, cropped: true },
    ]);
    expect(choice?.best.url).to.equal(`${M}/s250x250_c1/a.jpg`);
    expect(choice?.fallbackUrls).to.deep.equal([`${M}/s75x75_c1/a.jpg`]);
  });

  it('should list each fallback URL once and never the best URL when the list repeats URLs', () => {
    const choice = chooseNpfImageSize([
      { url: `${M}/s1280x1920/a.jpg`, width: 1280, has_original_dimensions: true },
      { url: `${M}/s1280x1920/a.jpg`, width: 1280 },
      { url: `${M}/s640x960/a.jpg`, width: 640 },
      { url: `${M}/s640x960/a.jpg`, width: 640 },
    ]);
    expect(choice?.best.url).to.equal(`${M}/s1280x1920/a.jpg`);
    expect(choice?.fallbackUrls).to.deep.equal([`${M}/s640x960/a.jpg`]);
  });

  it('should skip entries without a string URL and rank a width that is not a number last when the list is malformed', () => {
    const choice = chooseNpfImageSize([
      null,
      'https://64.media.tumblr.com/x.jpg',
      { url: 42, width: 4000 },
      { width: 3000 },
      { url: '', width: 2000 },
      { url: `${M}/s1280x1920/a.jpg`, width: '1280', height: 960 },
      { url: `${M}/s400x600/a.jpg`, width: 400, height: 300 },
    ]);
    expect(choice).to.deep.equal({ best: { url: `${M}/s400x600/a.jpg`, width: 400, height: 300 }, fallbackUrls: [`${M}/s1280x1920/a.jpg`] });
  });

  it('should count has_original_dimensions only when it is literally true', () => {
    const choice = chooseNpfImageSize([
      { url: `${M}/s1280x1920/a.jpg`, width: 1280 },
      { url: `${M}/s640x960/a.jpg`, width: 640, has_original_dimensions: 'true' },
    ]);
    expect(choice?.best.url).to.equal(`${M}/s1280x1920/a.jpg`);
  });

  it('should read a lone media object as a list of one', () => {
    expect(chooseNpfImageSize({ url: `${M}/a.gif`, type: 'image/gif', width: 500, height: 281 })).to.deep.equal({
      best: { url: `${M}/a.gif`, type: 'image/gif', width: 500, height: 281 },
      fallbackUrls: [],
    });
  });

  it('should give undefined when no entry has a URL', () => {
    for (const media of [undefined, null, [], 'x', [{ url: 5 }], [{}], 12]) expect(chooseNpfImageSize(media), JSON.stringify(media)).to.equal(undefined);
  });

  it('should choose the original and drop the cropped thumbnail when given the NPF photoset fixture', () => {
    const post = loadFixture('npf-photoset.json');
    const base = 'https://64.media.tumblr.com/0cc175b9c0f1b6a831c399e269772661/86f7e437faa5a7fc-8b';
    const file = '2a2e1206b4222b0d7cc8c8a1d8b302ee70cfe817.jpg';
    const choice = chooseNpfImageSize(blockAt(post, 0).media);
    expect(choice).to.deep.equal({
      best: { url: `${base}/s2048x3072/${file}`, type: 'image/jpeg', width: 1280, height: 1600 },
      fallbackUrls: ['s1280x1920', 's640x960', 's540x810', 's500x750', 's400x600', 's250x400', 's100x200'].map((size) => `${base}/${size}/${file}`),
    });
  });
});

describe(chooseLegacyPhotoSize.name, () => {
  it('should keep a size whose URL is malformed as a fallback, never throw on it, and drop the square crop', () => {
    const choice = chooseLegacyPhotoSize({
      original_size: { url: 'https://64.media.tumblr.com/a/tumblr_y_1280.jpg', width: 1280, height: 960 },
      alt_sizes: [
        { url: 'http://[', width: 640, height: 480 },
        { url: 'https://64.media.tumblr.com/a/tumblr_y_75sq.jpg?x=1', width: 75, height: 75 },
      ],
    });
    expect(choice).to.deep.equal({ best: { url: 'https://64.media.tumblr.com/a/tumblr_y_1280.jpg', width: 1280, height: 960 }, fallbackUrls: ['http://['] });
  });

  it('should choose original_size and give alt_sizes widest first without the original URL', () => {
    const url = (w: number | string): string => `https://64.media.tumblr.com/abc/tumblr_x1o1_${w}.jpg`;
    const choice = chooseLegacyPhotoSize({
      original_size: { url: url(1280), width: 1280, height: 720 },
      alt_sizes: [
        { url: url(250), width: 250, height: 141 },
        { url: url(1280), width: 1280, height: 720 },
        { url: url(500), width: 500, height: 281 },
        { url: url(500), width: 500, height: 281 },
        { url: url('75sq'), width: 75, height: 75 },
      ],
    });
    expect(choice).to.deep.equal({ best: { url: url(1280), width: 1280, height: 720 }, fallbackUrls: [url(500), url(250)] });
  });

  it('should choose the widest alternative when original_size is missing or has no URL', () => {
    const alt = [
      { url: 'https://64.media.tumblr.com/a_400.jpg', width: 400 },
      { url: 'https://64.media.tumblr.com/a_500.jpg', width: 500 },
    ];
    for (const photo of [{ alt_sizes: alt }, { original_size: { width: 1280 }, alt_sizes: alt }]) {
      expect(chooseLegacyPhotoSize(photo)).to.deep.equal({
        best: { url: 'https://64.media.tumblr.com/a_500.jpg', width: 500 },
        fallbackUrls: ['https://64.media.tumblr.com/a_400.jpg'],
      });
    }
  });

  it('should give undefined when the photo is not an object or has no size with a URL', () => {
    for (const photo of [undefined, null, 'x', [], {}, { original_size: 'x', alt_sizes: 'y' }, { alt_sizes: [{ url: null }] }]) {
      expect(chooseLegacyPhotoSize(photo), JSON.stringify(photo)).to.equal(undefined);
    }
  });

  it('should give the 1280 original and six fallbacks (no square crop) when given the legacy photoset fixture', () => {
    const photos = loadFixture('legacy-photo.json').photos as unknown[];
    const base = 'https://64.media.tumblr.com/b2f5ff47436671b6e533d8dc3614845d/tumblr_po3xk2Lm9A1qz8v4wo1';
    expect(chooseLegacyPhotoSize(photos[0])).to.deep.equal({
      best: { url: `${base}_1280.jpg`, width: 1280, height: 853 },
      fallbackUrls: ['640', '540', '500', '400', '250', '100'].map((w) => `${base}_${w}.jpg`),
    });
  });
});
