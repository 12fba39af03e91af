// The console's reader (issue #22): a module worker that measures camera frames with the
// detector's keyless half compiled to WebAssembly (crate holoid-wasm), so the page sends the
// service what the frames show (the code's payload, the sweep's head, the portrait's and the
// lettering's comparisons: about a kilobyte a frame) and never the photos. The keys and the
// status stay on the server, which judges the evidence with the photo check's own rules.
//
// Served by `holoid serve` from the binary; the WebAssembly files only where the service was
// started with --console-wasm. Requests: {req, type, ...}; every answer {req, ok, ...} or
// {req, ok: false, error}; every good answer also lists the locators whose records it holds.
//   hello                       → {}                 the module is compiled and ready
//   frame {id, rgba, width, height, at, locator}
//                               → {reading, with, ms} the frame kept as `id`, measured against
//                                 the record of `locator` when this worker holds it (`with`
//                                 says which record, or null: then only the code and the sweep)
//   reread {id, locator}        → {reading, with, ms} a kept frame measured again
//   record {locator, json}      → {}                 the record the service sent for `locator`
//   card {id}                   → {png}              a kept frame's card straightened (PNG),
//                                                    for a digital copy the officer stores
//   forget {ids}                → {}                 kept frames dropped
import init, { CardReader, cardPng } from './wasm/holoid_wasm.js';

const ready = init();
let blank = null;
// Readers by locator, the latest last (a few: each holds a person's lettering).
const readers = new Map();
const KEEP_READERS = 4;
// Frames of the burst being read, by id: RGBA (a canvas's, transferred) with their size and
// capture time.
const frames = new Map();

function read(frame, locator) {
  if (!frame) throw new Error('no such frame: it was forgotten');
  const reader = (locator && readers.get(locator)) || blank;
  const started = performance.now();
  const json = reader.readJson(frame.rgba, frame.width, frame.height, frame.at);
  const ms = performance.now() - started;
  return { reading: JSON.parse(json), with: reader === blank ? null : locator, ms };
}

function answer(m) {
  switch (m.type) {
    case 'hello':
      return {};
    case 'frame': {
      const frame = { rgba: new Uint8Array(m.rgba), width: m.width, height: m.height, at: m.at };
      frames.set(m.id, frame);
      return read(frame, m.locator);
    }
    case 'reread':
      return read(frames.get(m.id), m.locator);
    case 'record': {
      const reader = CardReader.fromRecord(m.json);
      if (readers.has(m.locator)) readers.get(m.locator).free();
      readers.delete(m.locator);
      readers.set(m.locator, reader);
      while (readers.size > KEEP_READERS) {
        const [oldest, r] = readers.entries().next().value;
        r.free();
        readers.delete(oldest);
      }
      return {};
    }
    case 'card': {
      const frame = frames.get(m.id);
      if (!frame) throw new Error('no such frame: it was forgotten');
      return { png: cardPng(frame.rgba, frame.width, frame.height) };
    }
    case 'forget':
      for (const id of m.ids) frames.delete(id);
      return {};
    default:
      throw new Error(`unknown request ${m.type}`);
  }
}

self.onmessage = async (ev) => {
  const m = ev.data;
  try {
    await ready;
    if (!blank) blank = new CardReader(undefined, undefined);
    const out = answer(m);
    const transfer = out.png ? [out.png.buffer] : [];
    self.postMessage(Object.assign({ req: m.req, ok: true, held: Array.from(readers.keys()) }, out), transfer);
  } catch (e) {
    self.postMessage({ req: m.req, ok: false, error: String((e && e.message) || e) });
  }
};
