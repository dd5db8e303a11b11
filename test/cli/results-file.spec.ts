import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { errorResult } from '../../src/cli/download-row.js';
import { ResultsFile } from '../../src/cli/results-file.js';
import { tempDir } from '../support/fixtures.js';

describe(ResultsFile.name, () => {
  it('should let many writers wait for one drain, without a MaxListenersExceededWarning', async () => {
    const temp = tempDir();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const file = path.join(temp.dir, 'results.jsonl');
      const results = await ResultsFile.open(file);
      // 64 writers at once, each line bigger than the stream's buffer: every one of them is held up.
      const line = (i: number) => errorResult(`https://h/${i}.jpg`, 'HTTP_ERROR', 'x'.repeat(20_000), { line: i });
      await Promise.all(Array.from({ length: 64 }, (_, i) => results.write(line(i))));
      await results.commit();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.map((w) => w.name)).to.not.include('MaxListenersExceededWarning');
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).to.have.length(64);
      expect(new Set(lines.map((l) => (JSON.parse(l) as { url: string }).url)).size).to.equal(64);
    } finally {
      process.off('warning', onWarning);
      temp.cleanup();
    }
  });
});
