import { expect } from 'chai';
import { getSurt } from 'warcio';
import { surt } from '../../src/archive/surt.js';

describe(surt.name, () => {
  it('should reverse the host, keep the port and sort the query when given the example of the issue', () => {
    expect(surt('https://www.Example.com:8080/a/B?b=2&a=1')).to.equal('com,example:8080)/a/b?a=1&b=2');
  });

  it('should drop the scheme, default port and fragment when given a plain URL', () => {
    expect(surt('https://64.media.tumblr.com:443/abc/tumblr_xyz_1280.jpg#top')).to.equal('com,tumblr,media,64)/abc/tumblr_xyz_1280.jpg');
    expect(surt('http://example.com:80/')).to.equal('com,example)/');
  });

  it('should reverse an IPv4 host like any other when given an IP address, as warcio does', () => {
    expect(surt('http://127.0.0.1:8080/x')).to.equal('1,0,0,127:8080)/x');
  });

  it('should return the URL unchanged when it is not http or https', () => {
    expect(surt('urn:pageinfo:https://example.com/')).to.equal('urn:pageinfo:https://example.com/');
    expect(surt('HTTPS://WWW.EXAMPLE.COM/')).to.equal('HTTPS://WWW.EXAMPLE.COM/');
  });

  it("should give warcio's own key when given any of a set of awkward URLs", () => {
    const urls = [
      'https://www.Example.com:8080/a/B?b=2&a=1',
      'http://www.example.com/',
      'https://www2.example.com/path',
      'https://wwwx.example.com/path',
      'https://WWW.example.com/upper-www',
      'https://example.com',
      'https://example.com/?',
      'https://example.com/?z&&a=1&A=2',
      'https://example.com/a/../b/./c?x=%2F&y=a+b',
      'https://example.com/path with space?q=a b',
      'https://example.com/%7Euser/ä?ü=1',
      'https://bücher.example/',
      'https://example.com:443/default-port',
      'http://example.com:443/other-port',
      'http://127.0.0.1:8080/x?b&a',
      'http://[::1]:9000/ipv6',
      'https://user:pass@example.com/creds',
      'https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg#frag',
      'https://www.tumblr.com/blog/view/staff/123?source=share',
      'http:example.com/no-slashes',
      'https://exa mple.com/bad-host',
      'ftp://example.com/file',
      'urn:uuid:1234',
      '',
    ];
    for (const url of urls) expect(surt(url), url).to.equal(getSurt(url));
  });
});
