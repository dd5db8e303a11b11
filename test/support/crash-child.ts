/**
 * Child process for the crash test: downloads one URL to one file name with
 * the real container, and is killed with SIGKILL by the parent mid-body.
 * Usage: node --import tsx crash-child.ts <url> <outputDir> <filename>
 */
import { Container } from 'inversify';
import { downloaderModule, MediaDownloader } from '../../src/index.js';

const [url, outputDir, filename] = process.argv.slice(2) as [string, string, string];
const container = new Container();
container.load(downloaderModule({ outputDir, rateLimit: { requestsPerSecond: 0 } }));
const result = await container.get<MediaDownloader>(MediaDownloader).downloadWithResume(url, filename);
process.stdout.write(JSON.stringify(result));
