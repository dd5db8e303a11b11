/**
 * Mocha setup: loaded once before any spec.
 * inversify reads decorator metadata through the Reflect polyfill, and nock must
 * never let a unit test reach the network by accident.
 */
import 'reflect-metadata';
import nock from 'nock';

nock.disableNetConnect();
// Real-server suites run on loopback only; they call nock.restore() themselves.
nock.enableNetConnect('127.0.0.1');

/**
 * Warnings the suite provokes on purpose (a ledger made to fail, an unwritable folder, listeners that throw)
 * are asserted by the tests that cause them; printed, they look like failures in a green run. Node's own
 * printer still gets every other warning.
 */
const PROVOKED_NAMES = new Set(['LedgerWarning', 'FolderLockWarning']);
const PROVOKED_CODES = new Set(['DOWNLOAD_EVENT_LISTENER_ERROR']);
const printers = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (PROVOKED_NAMES.has(warning.name) || (warning.code !== undefined && PROVOKED_CODES.has(warning.code))) return;
  for (const print of printers) print(warning);
});
