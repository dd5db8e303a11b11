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
