// Preloaded with `node -r`: makes better-sqlite3's native part fail to load, as after `npm install --ignore-scripts`.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'bindings') throw new Error('Could not locate the bindings file. Tried:\n → build/Release/better_sqlite3.node');
  return load.call(this, request, ...rest);
};
