// package-json.mjs SOURCE OUT VERSION — the packed package.json of litmus-experiments from the
// one in the source tree (litmus-wasm/package.json), for build-package.sh.
//
// The source's "version" must equal Cargo's workspace version (versions come from Cargo only):
// a mismatch stops the build with the fix to make. The packed copy gets that version and loses
// what only makes sense in the source tree ("scripts": they run the repository's scripts, which
// the package does not ship). Everything else, the exports map and "files" included, is copied
// as it is.
import { readFileSync, writeFileSync } from "node:fs";

const [source, out, version] = process.argv.slice(2);
if (!source || !out || !version) {
  console.error("usage: node package-json.mjs SOURCE OUT VERSION");
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(source, "utf8"));
if (pkg.version !== version) {
  console.error(
    `wasm: error: ${source} has "version": ${JSON.stringify(pkg.version)} but Cargo's workspace ` +
      `version is "${version}" (Cargo.toml [workspace.package]): set it to "${version}"`,
  );
  process.exit(1);
}
delete pkg.scripts;
delete pkg.devDependencies;
writeFileSync(out, `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
