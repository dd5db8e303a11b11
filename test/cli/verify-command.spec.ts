import { expect } from 'chai';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { EXIT } from '../../src/cli/exit-codes.js';
import { parseVerifyOptions, verifyCommand } from '../../src/cli/verify-command.js';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { SqliteDownloadLedger } from '../../src/ledger/sqlite-download-ledger.js';
import { HASH_CHUNK_BYTES } from '../../src/verify/file-digest.js';
import { filler, sha256, tempDir } from '../support/fixtures.js';

/** A stream that keeps what is written to it. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const url = (name: string): string => `https://64.media.tumblr.com/x/${name}`;

describe(verifyCommand.name, () => {
  let dir: string;
  let cleanup: () => void;
  /** Names in the order the ledger recorded them. */
  let names: string[];

  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    const archive = path.join(dir, 'archive');
    mkdirSync(archive);
    // 40 small files, and one of several chunks among them: the order the ledger holds is the order of the report.
    names = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}.${i === 20 ? 'mp4' : 'jpg'}`);
    const ledger = new SqliteDownloadLedger(resolveDownloaderConfig({ outputDir: archive, ledger: { path: path.join(archive, '.tumblr-dl', 'ledger.sqlite') } }));
    try {
      await Promise.all(
        names.map((name, i) => {
          const body = filler(name.endsWith('.mp4') ? 2 * HASH_CHUNK_BYTES + 99 : 100 + i * 37, i + 1);
          const filename = path.join(archive, name);
          writeFileSync(filename, body);
          return ledger.record({ url: url(name), mediaType: 'image', filename, sha256: sha256(body), bytes: body.length, source: 'tumblr', status: 'success', recordedAt: 1 });
        }),
      );
    } finally {
      await ledger.close();
    }
  });
  afterEach(() => cleanup());

  const file = (name: string): string => path.join(dir, 'archive', name);
  const flipByte = (name: string, at: number): void => {
    const body = readFileSync(file(name));
    body[at] = body[at]! ^ 0x01;
    writeFileSync(file(name), body);
  };
  const run = async (...flags: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out = sink();
    const err = sink();
    const code = await verifyCommand(parseVerifyOptions([path.join(dir, 'archive'), ...flags]), out.stream, err.stream);
    return { code, out: out.text(), err: err.text() };
  };

  /** Damage of every kind, spread through the ledger: a missing file, another size, a changed byte (in a small and in the large file), a symlink and a folder at a name. */
  const damage = (): void => {
    rmSync(file('f03.jpg'));
    writeFileSync(file('f07.jpg'), filler(5));
    flipByte('f12.jpg', 40);
    const twin = path.join(dir, 'twin.jpg');
    writeFileSync(twin, readFileSync(file('f18.jpg')));
    rmSync(file('f18.jpg'));
    symlinkSync(twin, file('f18.jpg'));
    flipByte('f20.mp4', 2 * HASH_CHUNK_BYTES + 50);
    rmSync(file('f33.jpg'));
    mkdirSync(file('f33.jpg'));
  };

  it('should print only the summary, and exit 0, for an intact archive', async () => {
    expect(await run()).to.deep.equal({ code: EXIT.ok, out: '40 files checked: 40 intact, 0 damaged, 0 missing; 0 interrupted downloads\n', err: '' });
  });

  it('should report each damaged or missing file in ledger order, then the summary, and exit 1', async () => {
    damage();
    const sum = (name: string): string => sha256(readFileSync(file(name)));
    const recorded = (name: string, i: number): string => sha256(filler(name.endsWith('.mp4') ? 2 * HASH_CHUNK_BYTES + 99 : 100 + i * 37, i + 1));
    const { code, out } = await run();
    expect(out.split('\n')).to.deep.equal([
      `MISSING  f03.jpg  (${url('f03.jpg')})`,
      `DAMAGED  f07.jpg  5 bytes, ${100 + 7 * 37} recorded  (${url('f07.jpg')})`,
      `DAMAGED  f12.jpg  sha256 ${sum('f12.jpg')}, ${recorded('f12.jpg', 12)} recorded  (${url('f12.jpg')})`,
      `DAMAGED  f18.jpg  not a regular file (a symbolic link or a directory stands at its name)  (${url('f18.jpg')})`,
      `DAMAGED  f20.mp4  sha256 ${sum('f20.mp4')}, ${recorded('f20.mp4', 20)} recorded  (${url('f20.mp4')})`,
      `DAMAGED  f33.jpg  not a regular file (a symbolic link or a directory stands at its name)  (${url('f33.jpg')})`,
      '40 files checked: 34 intact, 5 damaged, 1 missing; 0 interrupted downloads',
      '',
    ]);
    expect(code).to.equal(EXIT.someFailed);
  });

  it('should compare sizes only with --quick: a changed byte passes, everything else is still found', async () => {
    damage();
    const { code, out } = await run('--quick');
    expect(out.split('\n').map((line) => line.split('  ').slice(0, 2).join('  '))).to.deep.equal([
      'MISSING  f03.jpg',
      'DAMAGED  f07.jpg',
      'DAMAGED  f18.jpg',
      'DAMAGED  f33.jpg',
      '40 files checked (sizes only): 36 intact, 3 damaged, 1 missing; 0 interrupted downloads',
      '',
    ]);
    expect(code).to.equal(EXIT.someFailed);
  });

  it('should count records outside the folder and list interrupted downloads whose .part is still there', async () => {
    const archive = path.join(dir, 'archive');
    const ledger = new SqliteDownloadLedger(resolveDownloaderConfig({ outputDir: archive, ledger: { path: path.join(archive, '.tumblr-dl', 'ledger.sqlite') } }));
    try {
      const elsewhere = path.join(dir, 'elsewhere.jpg');
      writeFileSync(elsewhere, filler(10));
      await ledger.record({
        url: url('elsewhere.jpg'),
        mediaType: 'image',
        filename: elsewhere,
        sha256: sha256(filler(10)),
        bytes: 10,
        source: 'tumblr',
        status: 'success',
        recordedAt: 2,
      });
      writeFileSync(file('p.jpg.part'), filler(3));
      await ledger.markStarted({ url: url('p.jpg'), partPath: file('p.jpg.part'), startedAt: 3 });
      await ledger.markStarted({ url: url('gone.jpg'), partPath: file('gone.jpg.part'), startedAt: 4 });
    } finally {
      await ledger.close();
    }
    const { code, out } = await run();
    expect(out).to.equal(
      `OUTSIDE  1 recorded files are not under ${archive}: this ledger describes another folder (or one moved before tumblr-dl kept relative paths); ` +
        'run verify on that folder, or give the right one with --ledger\n' +
        `PARTIAL  p.jpg.part  (${url('p.jpg')}): an interrupted download; fetch resumes it\n` +
        '40 files checked: 40 intact, 0 damaged, 0 missing, 1 outside the folder; 1 interrupted downloads\n',
    );
    expect(code).to.equal(EXIT.someFailed);
  });

  it('should exit 2 without a ledger', async () => {
    rmSync(path.join(dir, 'archive', '.tumblr-dl'), { recursive: true });
    const { code, err } = await run();
    expect(code).to.equal(EXIT.usage);
    expect(err).to.match(/^tumblr-dl verify: no ledger at /);
  });
});
