import { expect } from 'chai';
import { DownloadError } from '../../src/errors/download-error.js';
import { expandPost } from '../../src/tumblr/expand-post.js';
import type { PostEmbed, PostMedia, PostMediaItem } from '../../src/tumblr/post-media.js';
import { postsIn } from '../../src/tumblr/post-shape.js';
import { loadFixture } from './load-fixture.js';

/** A minimal valid post with the given fields. */
const post = (fields: Record<string, unknown>): Record<string, unknown> => ({ blog_name: 'staff', id_string: '100', ...fields });
/** An NPF image block of one size. */
const image = (url: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'image',
  media: [{ type: 'image/jpeg', url, width: 1280, height: 720, ...extra }],
});
const T = 'https://64.media.tumblr.com/abc/def-01';
const items = (media: PostMedia[]): PostMediaItem[] => media.filter((m): m is PostMediaItem => m.kind === 'media');
const summary = (media: PostMedia[]): string[] => media.map((m) => `${m.index} ${m.kind} ${m.mediaType} ${m.url}`);

describe(expandPost.name, () => {
  describe('NPF posts', () => {
    it('should give each image of a photoset with its alt text and chosen size when given the NPF photoset fixture', () => {
      const media = expandPost(loadFixture('npf-photoset.json'));
      expect(summary(media)).to.deep.equal([
        '0 media image https://64.media.tumblr.com/0cc175b9c0f1b6a831c399e269772661/86f7e437faa5a7fc-8b/s2048x3072/2a2e1206b4222b0d7cc8c8a1d8b302ee70cfe817.jpg',
        '1 media image https://64.media.tumblr.com/92eb5ffee6ae2fec3ad71c777531578f/e9d71f5ee7c92d6d-4f/s2048x3072/1f7e33de15e22de9d2eaf502df284ed25ca40018.jpg',
      ]);
      expect(media[0]!.metadata).to.deep.equal({
        blog: 'lighthouse-notes',
        postId: '746291850374561792',
        postUrl: 'https://www.tumblr.com/lighthouse-notes/746291850374561792/two-from-the-north-coast',
        timestamp: 1712342478,
        tags: ['lighthouse', 'coast', 'my photos'],
        postType: 'photo',
        altText: 'A white lighthouse on a cliff at dusk',
        width: 1280,
        height: 1600,
      });
      expect(media[1]!.metadata).to.include({ altText: 'Waves breaking on black rocks', width: 2048, height: 1365 });
      const second = items(media)[1]!;
      expect(second.fallbackUrls).to.have.length(7);
      expect(second.fallbackUrls.some((url) => url.includes('_c1/'))).to.equal(false);
    });

    it('should take the post id from id_string when the numeric id has lost precision in JSON.parse', () => {
      const fixture = loadFixture('npf-photoset.json');
      expect(String(fixture.id)).to.not.equal('746291850374561792');
      expect(expandPost(fixture)[0]!.metadata.postId).to.equal('746291850374561792');
    });

    it('should call a GIF block gif when given the NPF GIF fixture, and leave its posters out', () => {
      const media = items(expandPost(loadFixture('npf-gif.json')));
      expect(media).to.have.length(1);
      expect(media[0]).to.deep.include({
        url: 'https://64.media.tumblr.com/4a8a08f09d37b73795649038408b5f33/84a516841ba77a5b-a1/s540x810/6eeb3fecf98e6cb569171a38808fac301b190eab.gif',
        mediaType: 'gif',
        index: 0,
      });
      expect(media[0]!.fallbackUrls.every((url) => url.endsWith('.gif') && !url.includes('_c1/'))).to.equal(true);
      expect(media[0]!.fallbackUrls).to.have.length(3);
    });

    it('should call an image gif when only its type says so, or only its .gif/.gifv path does', () => {
      const media = expandPost(
        post({
          content: [
            image(`${T}/s500x750/a`, { type: 'image/gif' }),
            image(`${T}/s500x750/b.gifv`, { type: 'image/webp' }),
            image(`${T}/s500x750/c.GIF?x=1`, { type: 'image/png' }),
            image(`${T}/s500x750/d.png?f=.gif`, { type: 'image/png' }),
          ],
        }),
      );
      expect(media.map((m) => m.mediaType)).to.deep.equal(['gif', 'gif', 'gif', 'image']);
    });

    it('should give a Tumblr video as a video item without its poster when given the NPF Tumblr video fixture', () => {
      const media = expandPost(loadFixture('npf-video-tumblr.json'));
      expect(media).to.have.length(1);
      expect(media[0]).to.deep.equal({
        kind: 'media',
        url: 'https://va.media.tumblr.com/tumblr_sbx2k1Qw8e1z9y7vu.mp4',
        fallbackUrls: [],
        mediaType: 'video',
        index: 0,
        metadata: {
          blog: 'tidepool-diaries',
          postId: '746310958273150976',
          postUrl: 'https://www.tumblr.com/tidepool-diaries/746310958273150976/she-changed-colour-three-times',
          timestamp: 1712361234,
          tags: ['octopus', 'video'],
          postType: 'video',
          width: 720,
          height: 1280,
        },
      });
    });

    it('should give a YouTube video as an embed when given the NPF YouTube fixture', () => {
      const media = expandPost(loadFixture('npf-video-youtube.json'));
      expect(media).to.have.length(1);
      const embed = media[0] as PostEmbed;
      expect({ kind: embed.kind, url: embed.url, provider: embed.provider, mediaType: embed.mediaType, index: embed.index }).to.deep.equal({
        kind: 'embed',
        url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
        provider: 'youtube',
        mediaType: 'video',
        index: 0,
      });
      expect(embed.metadata.postId).to.equal('746322008120901632');
    });

    it('should decide native or embed by the host when a video block names no provider', () => {
      const media = expandPost(
        post({
          content: [
            { type: 'video', media: { type: 'video/mp4', url: 'https://va.media.tumblr.com/tumblr_a.mp4', width: 480, height: 640 } },
            { type: 'video', media: { type: 'video/mp4', url: 'https://cdn.example.test/clip.mp4' }, url: 'https://example.test/watch/1' },
            { type: 'video', embed_url: 'https://player.example.test/embed/2' },
            { type: 'video', provider: 'vimeo' },
          ],
        }),
      );
      expect(media.map((m) => [m.kind, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([
        ['media', 'https://va.media.tumblr.com/tumblr_a.mp4', '-'],
        ['embed', 'https://example.test/watch/1', 'unknown'],
        ['embed', 'https://player.example.test/embed/2', 'unknown'],
        ['embed', '', 'vimeo'],
      ]);
    });

    it('should take the widest entry when a Tumblr video block gives its media as a list', () => {
      const media = expandPost(
        post({
          content: [
            {
              type: 'video',
              provider: 'tumblr',
              media: [
                { type: 'video/mp4', url: 'https://va.media.tumblr.com/tumblr_v_480.mp4', width: 480, height: 270 },
                { type: 'video/mp4', url: 'https://va.media.tumblr.com/tumblr_v.mp4', width: 1280, height: 720 },
                { type: 'video/mp4', url: 7, width: 4000 },
              ],
            },
          ],
        }),
      );
      expect(summary(media)).to.deep.equal(['0 media video https://va.media.tumblr.com/tumblr_v.mp4']);
      expect(media[0]!.metadata).to.include({ width: 1280, height: 720 });
    });

    it('should give Tumblr audio as an audio item and third-party audio as an embed', () => {
      const media = expandPost(
        post({
          content: [
            { type: 'audio', provider: 'tumblr', title: 'Rain', media: { type: 'audio/mp3', url: 'https://a.tumblr.com/tumblr_r1o1.mp3' } },
            { type: 'audio', media: { type: 'audio/mp3', url: 'https://a.tumblr.com/tumblr_r2o1.mp3' } },
            { type: 'audio', provider: 'spotify', url: 'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC', embed_url: 'https://open.spotify.com/embed/track/4u' },
            { type: 'audio', provider: 'soundcloud', embed_url: 'https://w.soundcloud.com/player/?url=x' },
            { type: 'audio', provider: 'bandcamp', media: { url: 'https://bandcamp.example.test/a.mp3' } },
          ],
        }),
      );
      expect(media.map((m) => [m.index, m.kind, m.mediaType, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([
        [0, 'media', 'audio', 'https://a.tumblr.com/tumblr_r1o1.mp3', '-'],
        [1, 'media', 'audio', 'https://a.tumblr.com/tumblr_r2o1.mp3', '-'],
        [2, 'embed', 'audio', 'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC', 'spotify'],
        [3, 'embed', 'audio', 'https://w.soundcloud.com/player/?url=x', 'soundcloud'],
        [4, 'embed', 'audio', '', 'bandcamp'],
      ]);
      expect(media[0]!.metadata).to.not.have.property('width');
    });

    it('should give the trail media first, oldest first, each with its reblog origin, when given the NPF reblog fixture', () => {
      const media = expandPost(loadFixture('npf-reblog.json'));
      expect(media.map((m) => [m.index, m.url.split('/')[3], m.metadata.reblogOrigin])).to.deep.equal([
        [0, '8277e0910d750195b448797616e091ad', { blog: 'granite-and-lichen', postId: '746101122334455808' }],
        [1, 'e1671797c52e15f763380b45e841ec32', { blog: 'bryophyte-club', postId: '746222233445566720' }],
        [2, '8fa14cdd754f91cc6554c9e71929cce7', undefined],
      ]);
      expect(media.every((m) => m.metadata.blog === 'moss-appreciator' && m.metadata.postId === '746333771829182464')).to.equal(true);
      expect(media[2]!.metadata).to.not.have.property('reblogOrigin');
    });

    it('should name a broken trail entry by broken_blog_name without a post id, and skip the origin when the entry names no blog', () => {
      const media = expandPost(
        post({
          trail: [
            { broken_blog_name: 'old-broken-blog', post: { timestamp: 1618950000 }, content: [image(`${T}/1.jpg`)], layout: [] },
            { blog: { uuid: 't:x' }, post: { id: '../9' }, content: [image(`${T}/2.jpg`)], layout: [] },
            'junk',
            { content: 'not a list' },
          ],
          content: [],
        }),
      );
      expect(media.map((m) => m.metadata.reblogOrigin)).to.deep.equal([{ blog: 'old-broken-blog' }, undefined]);
    });

    it('should number embeds like media, in block order', () => {
      const media = expandPost(
        post({
          content: [image(`${T}/1.jpg`), { type: 'text', text: 'hi' }, { type: 'video', provider: 'youtube', url: 'https://www.youtube.com/watch?v=abc' }, image(`${T}/2.jpg`)],
        }),
      );
      expect(media.map((m) => `${m.index}:${m.kind}`)).to.deep.equal(['0:media', '1:embed', '2:media']);
    });

    it('should list a URL met twice in one post once, where it is first met, and number on without a gap', () => {
      const media = expandPost(
        post({
          trail: [{ blog: { name: 'origin' }, post: { id: '5' }, content: [image(`${T}/same.jpg`)] }],
          content: [image(`${T}/same.jpg`), image(`${T}/other.jpg`), image(`${T}/same.jpg`)],
        }),
      );
      expect(media.map((m) => [m.index, m.url, m.metadata.reblogOrigin?.blog])).to.deep.equal([
        [0, `${T}/same.jpg`, 'origin'],
        [1, `${T}/other.jpg`, undefined],
      ]);
    });

    it('should keep two embeds without a URL as two entries', () => {
      const media = expandPost(
        post({
          content: [
            { type: 'video', provider: 'vimeo' },
            { type: 'audio', provider: 'spotify' },
          ],
        }),
      );
      expect(media.map((m) => `${m.index}:${m.mediaType}:${m.url}`)).to.deep.equal(['0:video:', '1:audio:']);
    });

    it('should skip odd media blocks without throwing when blocks are malformed', () => {
      const media = expandPost(
        post({
          content: [
            null,
            'text',
            42,
            { type: 'image' },
            { type: 'image', media: 'x' },
            { type: 'image', media: [{ url: 5, width: 100 }, null] },
            { type: 'image', media: [{ url: `${T}/ok.jpg`, width: '1280', height: 720 }] },
            { type: 'video', provider: 'tumblr' },
            { type: 'video', provider: 'tumblr', media: { url: null } },
            { type: 'audio', provider: 'tumblr', media: { url: 7 } },
            { type: 'link', url: 'https://example.test/', poster: [{ url: `${T}/poster.jpg`, width: 100 }] },
            { type: 'poll', question: 'q', answers: [] },
            { type: 'paywall', subtype: 'cta' },
            { text: 'no type' },
          ],
        }),
      );
      expect(media).to.have.length(1);
      expect(media[0]).to.deep.include({ url: `${T}/ok.jpg`, index: 0, mediaType: 'image' });
      expect(media[0]!.metadata).to.not.have.property('width');
      expect(media[0]!.metadata).to.include({ height: 720 });
    });

    it('should give nothing when the content list is empty', () => {
      expect(expandPost(post({ content: [], body: `<img src="${T}/legacy.jpg">` }))).to.deep.equal([]);
    });

    it('should give every entry a metadata object of its own', () => {
      const media = expandPost(loadFixture('npf-reblog.json'));
      media[0]!.metadata.tags.push('changed');
      media[0]!.metadata.reblogOrigin!.blog = 'changed';
      media[0]!.metadata.blog = 'changed';
      expect(media[1]!.metadata.tags).to.deep.equal(['moss', 'reblog']);
      expect(media[1]!.metadata.blog).to.equal('moss-appreciator');
      expect(expandPost(loadFixture('npf-reblog.json'))[0]!.metadata.reblogOrigin).to.deep.equal({ blog: 'granite-and-lichen', postId: '746101122334455808' });
      const again = expandPost(post({ trail: [{ blog: { name: 'o' }, content: [image(`${T}/1.jpg`), image(`${T}/2.jpg`)] }], content: [] }));
      expect(again[0]!.metadata.reblogOrigin).to.not.equal(again[1]!.metadata.reblogOrigin);
    });
  });

  describe('legacy posts', () => {
    it('should give each photo with its caption, and a GIF photo as gif, when given the legacy photoset fixture', () => {
      const media = items(expandPost(loadFixture('legacy-photo.json')));
      expect(summary(media)).to.deep.equal([
        '0 media image https://64.media.tumblr.com/b2f5ff47436671b6e533d8dc3614845d/tumblr_po3xk2Lm9A1qz8v4wo1_1280.jpg',
        '1 media gif https://64.media.tumblr.com/2510c39011c5be704182423e3a695e91/tumblr_po3xk2Lm9A1qz8v4wo2_540.gif',
      ]);
      expect(media[0]!.metadata).to.deep.equal({
        blog: 'harbour-lights',
        postId: '183214455667',
        postUrl: 'https://harbour-lights.tumblr.com/post/183214455667/my-arm-is-getting-tired',
        timestamp: 1552169387,
        tags: ['harbour', 'night'],
        postType: 'photo',
        width: 1280,
        height: 853,
        caption: 'the harbour at six',
      });
      expect(media[0]!.fallbackUrls).to.have.length(6);
      expect(media[0]!.fallbackUrls).to.not.include(media[0]!.url);
      expect(media[0]!.fallbackUrls.some((u) => u.includes('_75sq'))).to.equal(false);
      expect(media[1]!.metadata).to.not.have.property('caption');
    });

    it('should give the Tumblr video when given the legacy video fixture', () => {
      expect(summary(expandPost(loadFixture('legacy-video.json')))).to.deep.equal(['0 media video https://va.media.tumblr.com/tumblr_po9q2wE4rT1y6u8io.mp4']);
    });

    it('should give a video post of another provider as an embed of its permalink, else its source', () => {
      const youtube = (postsIn(loadFixture('api-page.json')) as unknown[])[1];
      const media = expandPost(youtube);
      expect(media.map((m) => [m.kind, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([['embed', 'https://www.youtube.com/watch?v=9bZkp7q19f0', 'youtube']]);
      const vimeo = expandPost(post({ type: 'video', video_type: 'vimeo', source_url: 'https://vimeo.com/76979871' }));
      expect(vimeo.map((m) => [m.kind, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([['embed', 'https://vimeo.com/76979871', 'vimeo']]);
      const bare = expandPost(post({ type: 'video' }));
      expect(bare.map((m) => [m.kind, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([['embed', '', 'unknown']]);
    });

    it('should give the Tumblr audio when given the legacy audio fixture', () => {
      const media = expandPost(loadFixture('legacy-audio.json'));
      expect(summary(media)).to.deep.equal(['0 media audio https://a.tumblr.com/tumblr_pp1a2b3c4D1rx9y8zo1.mp3']);
      expect(media[0]!.metadata.postType).to.equal('audio');
    });

    it('should give an audio post of another provider as an embed of its source URL', () => {
      const spotify = expandPost(post({ type: 'audio', audio_type: 'spotify', audio_source_url: 'https://open.spotify.com/track/1', audio_url: 'https://open.spotify.com/x' }));
      expect(spotify.map((m) => [m.kind, m.mediaType, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([
        ['embed', 'audio', 'https://open.spotify.com/track/1', 'spotify'],
      ]);
      const unnamed = expandPost(post({ type: 'audio', audio_url: 'https://soundcloud.com/a/b' }));
      expect(unnamed.map((m) => [m.kind, m.url, m.kind === 'embed' ? m.provider : '-'])).to.deep.equal([['embed', 'https://soundcloud.com/a/b', 'unknown']]);
    });

    it('should give inline images of Tumblr media hosts only when given the legacy text fixture', () => {
      const media = expandPost(loadFixture('legacy-text-inline.json'));
      expect(summary(media)).to.deep.equal([
        '0 media image https://64.media.tumblr.com/865c0c0b4ab0e063e5caa3387c1a8741/042dc4512fa3d391-9e/s640x960/d4f506d11f53beffb8d67eda0740af3a887a992e.jpg',
        '1 media gif https://64.media.tumblr.com/363b122c528f54df4a0446b6bab05515/5c2dd944dde9e088-0b/s540x810/e3a8d6c3636413f47bb05ae120b4412b45bf77c5.gif',
      ]);
      expect(media.some((m) => m.url.includes('imgur'))).to.equal(false);
    });

    it('should read inline images of caption, body and answer, decode &amp; and refuse look-alike hosts', () => {
      const media = expandPost(
        post({
          type: 'answer',
          caption: '<p><IMG alt="x" SRC="https://media.tumblr.com/tumblr_c.png"></p>',
          body: '<img src="https://64.media.tumblr.com/a/b.jpg?x=1&amp;y=2"><img src="https://media.tumblr.com.evil.test/x.jpg"><img src="https://evil.test/?h=.media.tumblr.com">',
          answer: '<img data-src="https://64.media.tumblr.com/not-src.jpg"><img src="https://64.media.tumblr.com/a/ans.gifv">',
        }),
      );
      expect(summary(media)).to.deep.equal([
        '0 media image https://media.tumblr.com/tumblr_c.png',
        '1 media image https://64.media.tumblr.com/a/b.jpg?x=1&y=2',
        '2 media gif https://64.media.tumblr.com/a/ans.gifv',
      ]);
    });

    it('should read a hostile body of unclosed <img tags in one pass, and still find the tag after them', () => {
      // Each tag is read to its ">" and the search goes on after it. A backtracking pattern took about 25 s on
      // these 2 MB (far past the test's timeout); one pass takes milliseconds.
      const body = `${'<img '.repeat(400_000)}><img src="https://64.media.tumblr.com/late.jpg">`;
      expect(summary(expandPost(post({ type: 'text', body })))).to.deep.equal(['0 media image https://64.media.tumblr.com/late.jpg']);
    });

    it('should give trail images first with their origin, and a body repeat of them once', () => {
      const shared = 'https://64.media.tumblr.com/aa/bb-cc/s640x960/shared.jpg';
      const media = expandPost(
        post({
          type: 'text',
          body: `<p><a class="tumblr_blog" href="https://origin.tumblr.com/post/55">origin</a>:</p><blockquote><img src="${shared}"></blockquote><p><img src="https://64.media.tumblr.com/mine.jpg"></p>`,
          trail: [
            { blog: { name: 'origin' }, post: { id: '55' }, content_raw: `<p><img src="${shared}"></p>`, is_root_item: true },
            { blog: { name: 'staff' }, post: { id: '100' }, content_raw: '<p><img src="https://64.media.tumblr.com/mine.jpg"></p>', is_current_item: true },
          ],
        }),
      );
      expect(media.map((m) => [m.index, m.url, m.metadata.reblogOrigin])).to.deep.equal([
        [0, shared, { blog: 'origin', postId: '55' }],
        [1, 'https://64.media.tumblr.com/mine.jpg', undefined],
      ]);
    });

    it('should give every post of an API page its media when given the api-page fixture', () => {
      const media = (postsIn(loadFixture('api-page.json')) as unknown[]).map((p) => expandPost(p));
      expect(media.map((list) => list.map((m) => `${m.index}:${m.kind}:${m.mediaType}`))).to.deep.equal([['0:media:image'], ['0:embed:video'], ['0:media:image']]);
      expect(media[2]![0]!.url).to.equal(
        'https://64.media.tumblr.com/2db95e8e1a9267b7a1188556b2013b33/07c342be6e560e7f-5a/s1280x1920/ae77101d6ae6c41b622451f2387cf5640f9573ff.png',
      );
    });

    it('should give nothing when a legacy post has no media', () => {
      expect(expandPost(post({ type: 'quote', text: 'a quote', source: '<a href="https://example.test">x</a>' }))).to.deep.equal([]);
    });
  });

  describe('post metadata', () => {
    it('should keep only string tags, take original_type over type and leave out fields of the wrong type', () => {
      const media = expandPost(post({ type: 'blocks', original_type: 'photo', tags: ['a', 3, null, 'b'], timestamp: '1712342478', post_url: 5, content: [image(`${T}/1.jpg`)] }));
      expect(media[0]!.metadata).to.deep.equal({ blog: 'staff', postId: '100', tags: ['a', 'b'], postType: 'photo', width: 1280, height: 720 });
    });

    it('should read the blog from blog.name and the id from a numeric id when the post has no blog_name or id_string', () => {
      const media = expandPost({ blog: { name: 'npf-blog' }, id: 12345, content: [image(`${T}/1.jpg`)] });
      expect(media[0]!.metadata).to.include({ blog: 'npf-blog', postId: '12345' });
      expect(media[0]!.metadata.tags).to.deep.equal([]);
    });
  });

  describe('post identity', () => {
    const refusals: [string, unknown, RegExp][] = [
      ['a path as id_string', { blog_name: 'a', id_string: '../../etc' }, /post id must be digits \(1 to 20\), got "\.\.\/\.\.\/etc"/],
      ['a spaced id', { blog_name: 'a', id_string: '1 2' }, /post id must be digits \(1 to 20\), got "1 2"/],
      ['a 21-digit id', { blog_name: 'a', id_string: '123456789012345678901' }, /post id must be digits \(1 to 20\), got "123456789012345678901"/],
      ['an empty id_string', { blog_name: 'a', id_string: '' }, /post id must be digits \(1 to 20\), got ""/],
      ['a bad id_string beside a good id', { blog_name: 'a', id_string: '1/2', id: 12 }, /got "1\/2"/],
      ['a fractional id', { blog_name: 'a', id: 1.5 }, /post id must be a whole number ≥ 0 within 2\^53 \(else give id_string\), got 1\.5/],
      ['a negative id', { blog_name: 'a', id: -1 }, /got -1$/],
      ['an id beyond 2^53', { blog_name: 'a', id: 2 ** 53 + 2 }, /within 2\^53/],
      ['an id that is an object', { blog_name: 'a', id: { $numberLong: '1' } }, /post id must be a string of digits or a number, got an object/],
      ['no id', { blog_name: 'a' }, /post has no id \(id_string or id\)/],
      ['no blog', { id_string: '1' }, /post has no blog name \(blog_name or blog\.name\)/],
      ['a numeric blog name', { blog_name: 42, id_string: '1' }, /blog name must be a string, got 42/],
      ['an empty blog name', { blog_name: '', id_string: '1' }, /blog name is empty/],
      ['a 256-character blog name', { blog_name: 'b'.repeat(256), id_string: '1' }, /blog name is 256 characters long, more than 255/],
      ['null', null, /a post must be a JSON object, got null/],
      ['an array', [{ blog_name: 'a', id: 1 }], /a post must be a JSON object, got an array/],
      ['a string', '123', /a post must be a JSON object, got "123"/],
    ];
    for (const [what, value, message] of refusals) {
      it(`should refuse the post with a BAD_INPUT error saying why when it has ${what}`, () => {
        expect(() => expandPost(value))
          .to.throw(DownloadError, message)
          .with.property('code', 'BAD_INPUT');
      });
    }

    it('should accept a blog name of 255 characters, unsanitized, and a 20-digit id', () => {
      const blog = `../${'b'.repeat(252)}`;
      const media = expandPost({ blog_name: blog, id_string: '18446744073709551615', content: [image(`${T}/1.jpg`)] });
      expect(media[0]!.metadata).to.include({ blog, postId: '18446744073709551615' });
    });
  });
});
