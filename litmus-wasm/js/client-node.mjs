// Node only: the config client's cache file (options.cachePath). Each good config from the
// server is written to a temporary file in the same directory, flushed, then renamed over the
// cache, so a reader (another process, or this one after a crash) sees a whole config or the
// previous one, never a torn write. Only the Node entry points import this module, so browser
// bundles never pull in node:fs. Written once as ESM; build-package.sh derives the CommonJS copy.
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

let counter = 0;
// Writes in order per path: a slow older write never renames over a newer one.
const queues = new Map();

async function writeAtomically(path, text) {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${++counter}.tmp`;
  const file = await open(tmp, "w", 0o644);
  try {
    await file.writeFile(text, "utf8");
    await file.sync();
  } catch (e) {
    await file.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** The cache file operations the config client uses in Node. */
export const fileCache = {
  /** The cached config text (rejects with code ENOENT when there is none). */
  read(path) {
    return readFile(path, "utf8");
  },
  /** Replaces the cache with `text` atomically (temporary file, fsync, rename). */
  write(path, text) {
    const run = (queues.get(path) ?? Promise.resolve()).then(() => writeAtomically(path, text));
    const tail = run.catch(() => {});
    queues.set(path, tail);
    tail.then(() => {
      if (queues.get(path) === tail) queues.delete(path);
    });
    return run;
  },
};
