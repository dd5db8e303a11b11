import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { getSurt, WARCRecord, WARCSerializer } from 'warcio';
import yauzl from 'yauzl';
import { ensureBuilt } from '../support/built-package.js';
import { tempDir } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

/** `<warcDir>/<name>.warc.gz` with one 200 response for `url`, and its `<name>.cdxj`, as `fetch --warc` leaves them. */
async function oneRecordWarc(warcDir: string, name: string, url: string): Promise<void> {
  const record = WARCRecord.create({ url, date: '2024-03-01T10:00:00Z', type: 'response', warcVersion: 'WARC/1.1', httpHeaders: { 'Content-Type': 'image/jpeg' } }, [
    Buffer.from(`bytes of ${url}`),
  ]);
  const member = Buffer.from(await WARCSerializer.serialize(record, { gzip: true }));
  writeFileSync(path.join(warcDir, `${name}.warc.gz`), member);
  const fields = { url, mime: 'image/jpeg', status: 200, digest: 'sha256:00', length: member.length, offset: 0, filename: `${name}.warc.gz` };
  writeFileSync(path.join(warcDir, `${name}.cdxj`), `${getSurt(url)} 20240301100000 ${JSON.stringify(fields)}\n`);
}

describe('tumblr-dl wacz (built CLI)', function () {
  this.timeout(60_000);
  let work: { dir: string; cleanup: () => void };

  before(() => ensureBuilt());
  beforeEach(() => (work = tempDir('mdl-wacz-cli-')));
  afterEach(() => work.cleanup());

  it('should pack the WARCs of <dir>/warc and say so in one line', async () => {
    const warcDir = path.join(work.dir, 'out', 'warc');
    mkdirSync(warcDir, { recursive: true });
    await oneRecordWarc(warcDir, 'rec-1', 'https://64.media.tumblr.com/a/1.jpg');
    await oneRecordWarc(warcDir, 'rec-2', 'https://64.media.tumblr.com/b/2.jpg');
    writeFileSync(path.join(warcDir, 'rec-3.warc.gz.open'), '');
    const output = path.join(work.dir, 'out.wacz');
    const run = await runCli(['wacz', path.join(work.dir, 'out'), '-o', output, '--title', 'Two images']);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(
      new RegExp(`^Packed 2 WARCs \\(2 records, 2 pages, \\d+\\.\\d MiB\\) into ${output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; 1 WARC still being written left out\\n$`),
    );
    const zip = await yauzl.openPromise(output, { lazyEntries: true });
    const names: string[] = [];
    let datapackage = '';
    for await (const entry of zip.eachEntry()) {
      names.push(entry.fileName);
      if (entry.fileName !== 'datapackage.json') continue;
      for await (const chunk of await zip.openReadStreamPromise(entry)) datapackage += (chunk as Buffer).toString();
    }
    zip.close();
    expect(names).to.include.members(['archive/rec-1.warc.gz', 'archive/rec-2.warc.gz', 'indexes/index.cdxj', 'pages/pages.jsonl', 'datapackage-digest.json']);
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(JSON.parse(datapackage)).to.include({ wacz_version: '1.1.1', title: 'Two images', software: `tumblr-dl ${version}` });
  });

  it('should exit 2 with one actionable line when <dir> has no closed WARC', async () => {
    const dir = path.join(work.dir, 'out');
    mkdirSync(path.join(dir, 'warc'), { recursive: true });
    writeFileSync(path.join(dir, 'warc', 'rec-1.warc.gz.open'), '');
    const run = await runCli(['wacz', dir, '-o', path.join(work.dir, 'out.wacz')]);
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.equal(`tumblr-dl wacz: no closed WARC in ${path.join(dir, 'warc')} (1 still being written: let that run finish): run fetch --warc first\n`);
  });

  it('should exit 2 on bad usage: no -o, or a name without .wacz', async () => {
    for (const [args, message] of [
      [['wacz', work.dir], 'missing -o <file.wacz>'],
      [['wacz', work.dir, '-o', 'out.zip'], "-o out.zip: a WACZ file's name must end in .wacz"],
    ] as const) {
      const run = await runCli([...args]);
      expect(run.code, message).to.equal(2);
      expect(run.stderr.split('\n')[0]).to.equal(`tumblr-dl wacz: ${message}`);
    }
  });

  it('should print its help in 80 columns', async () => {
    const run = await runCli(['wacz', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: tumblr-dl wacz /);
    expect(run.stdout.split('\n').filter((line) => [...line].length > 80)).to.deep.equal([]);
  });
});
