// Preloaded into node-red-dev: the Flow Library catalogue (catalogue.nodered.org) cannot be
// reached offline, so its two look-ups (P08 similar package names, N01 duplicate node types)
// get an empty catalogue. Every other check runs as published.
'use strict';
const Module = require('node:module');

const CATALOGUE = 'https://catalogue.nodered.org/';
const load = Module._load;
Module._load = function (request) {
  const loaded = load.apply(this, arguments);
  if (request === 'axios' && loaded && !loaded.catalogueStandIn) {
    const get = loaded.get.bind(loaded);
    loaded.get = (url, ...rest) => (String(url).startsWith(CATALOGUE) ? Promise.resolve({ data: { modules: [] } }) : get(url, ...rest));
    loaded.catalogueStandIn = true;
  }
  return loaded;
};
