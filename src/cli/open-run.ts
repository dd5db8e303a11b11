import type { Container } from 'inversify';
import { FolderLock } from '../downloader/disk/folder-lock.js';
import { MediaDownloader } from '../downloader/media-downloader.js';
import { DownloadLedger } from '../ledger/download-ledger.js';
import { SqliteDownloadLedger } from '../ledger/sqlite-download-ledger.js';

/** What a downloading command (`fetch`, `worker`) runs on: the folder's ledger and its downloader. */
export interface OpenRun {
  ledger: DownloadLedger;
  downloader: MediaDownloader;
}

/**
 * Take the output folder, then open its ledger (checked whole) and build the downloader. The lock comes first:
 * a second run on a folder in use stops here with `LOCKED`, before it reads, checks or migrates anything in
 * `<dir>/.tumblr-dl/`. On any failure what was opened is closed and the folder let go before the error is
 * rethrown, for the command to say in one line.
 */
export async function openRun(container: Container): Promise<OpenRun> {
  const lock = container.get(FolderLock);
  let ledger: DownloadLedger | undefined;
  try {
    ledger = container.get(DownloadLedger);
    if (ledger instanceof SqliteDownloadLedger) ledger.assertIntact();
    return { ledger, downloader: container.get(MediaDownloader) };
  } catch (error) {
    await ledger?.close();
    lock.release();
    throw error;
  }
}

/**
 * End a run whose downloads have all settled: the ledger closes while the folder is still ours, then the
 * downloader lets the folder go.
 */
export async function closeRun(run: OpenRun): Promise<void> {
  await run.ledger.close();
  await run.downloader.close();
}
