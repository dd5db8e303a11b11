import { expect } from 'chai';
import { isPost, postsIn } from '../../src/tumblr/post-shape.js';
import { loadFixture } from './load-fixture.js';

const legacy = { blog_name: 'staff', id: 123456, id_string: '123456', type: 'text' };
const npf = { blog: { name: 'staff', uuid: 't:abc' }, id: '746291850374561792', content: [] };

describe(isPost.name, () => {
  it('should accept an object with a blog name and an id when given any of their documented spellings', () => {
    expect(isPost(legacy)).to.equal(true);
    expect(isPost(npf)).to.equal(true);
    expect(isPost({ blog_name: 'a', id_string: '1' })).to.equal(true);
    expect(isPost({ blog: { name: 'a' }, id: 1 })).to.equal(true);
    expect(isPost(loadFixture('npf-reblog.json'))).to.equal(true);
  });

  it('should refuse a value without a string blog name or without an id', () => {
    for (const value of [
      { id: 1 },
      { blog_name: 'a' },
      { blog_name: 42, id: 1 },
      { blog: 'a', id: 1 },
      { blog: { uuid: 't:x' }, id: 1 },
      { blog_name: 'a', id: true },
      { blog_name: 'a', id_string: 1.5e3 },
      null,
      [legacy],
      'post',
      7,
      undefined,
    ]) {
      expect(isPost(value), JSON.stringify(value)).to.equal(false);
    }
  });
});

describe(postsIn.name, () => {
  it('should give a single post as a list of one when the document is a post', () => {
    const posts = postsIn(legacy);
    expect(posts).to.have.length(1);
    expect(posts![0]).to.equal(legacy);
  });

  it('should give every element, posts or not, when the document is an array', () => {
    expect(postsIn([legacy, 'junk', null, npf])).to.deep.equal([legacy, 'junk', null, npf]);
    expect(postsIn([])).to.deep.equal([]);
  });

  it('should give the posts list when the document is {posts} or {liked_posts}', () => {
    expect(postsIn({ posts: [legacy, npf] })).to.deep.equal([legacy, npf]);
    expect(postsIn({ liked_posts: [npf], liked_count: 1 })).to.deep.equal([npf]);
  });

  it('should give the three posts of an API page when given the api-page fixture', () => {
    const posts = postsIn(loadFixture('api-page.json')) as Record<string, unknown>[];
    expect(posts.map((post) => post.id_string)).to.deep.equal(['183700112233', '183655443322', '183600998877']);
  });

  it('should give the post when the response is one post, or {post}, as from /posts/{id}', () => {
    expect(postsIn({ meta: { status: 200, msg: 'OK' }, response: npf })).to.deep.equal([npf]);
    expect(postsIn({ meta: { status: 200, msg: 'OK' }, response: { post: legacy } })).to.deep.equal([legacy]);
  });

  it('should give an object that says it is a post, or sits under post, when its blog or id is missing', () => {
    const broken = { object_type: 'post', type: 'blocks', id: '746291850374561792', tumblelog_uuid: 't:abc', content: [] };
    expect(postsIn(broken)).to.deep.equal([broken]);
    expect(postsIn({ response: broken })).to.deep.equal([broken]);
    expect(postsIn({ response: { post: { blog_name: 'a' } } })).to.deep.equal([{ blog_name: 'a' }]);
  });

  it('should give the elements of a response that is an array, as from /v2/tagged', () => {
    expect(postsIn({ meta: { status: 200, msg: 'OK' }, response: [legacy, npf] })).to.deep.equal([legacy, npf]);
  });

  it('should give the liked posts when the response is a likes page', () => {
    expect(postsIn({ meta: { status: 200, msg: 'OK' }, response: { liked_posts: [legacy], liked_count: 1 } })).to.deep.equal([legacy]);
  });

  it('should give no posts when the document is an API error with an empty response', () => {
    expect(postsIn({ meta: { status: 404, msg: 'Not Found' }, response: [], errors: [{ title: 'Not Found', code: 0 }] })).to.deep.equal([]);
  });

  it('should give undefined when the document holds no posts in any known shape', () => {
    for (const value of [
      {},
      { meta: { status: 200 } },
      { posts: 'x' },
      { response: { blog: { name: 'staff' } } },
      { response: { posts: 'x' } },
      { response: { post: 'x' } },
      { response: 'x' },
      { blog_name: 'staff' },
      null,
      42,
      'text',
      undefined,
    ]) {
      expect(postsIn(value), JSON.stringify(value)).to.equal(undefined);
    }
  });

  it('should give a copy that the caller may change without changing the document', () => {
    const document = { response: { posts: [legacy] } };
    postsIn(document)!.push(npf);
    expect(document.response.posts).to.deep.equal([legacy]);
  });
});
