// esm-to-cjs.mjs IN.mjs OUT.cjs — the CommonJS copy of one of the package's ESM modules
// (litmus-wasm/js): `import { a } from "./x.mjs"` becomes `const { a } = require("./x.cjs")`
// (and `import { a } from "node:x"` becomes `const { a } = require("node:x")`), exported
// declarations lose `export`, and module.exports lists them. Only the forms those
// modules use are handled; anything else fails loudly.
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
const names = [];
const lines = readFileSync(input, "utf8").split("\n").map((line) => {
  const imp = line.match(/^import \{([^}]+)\} from "\.\/([\w-]+)\.mjs";$/);
  if (imp) return `const {${imp[1]}} = require("./${imp[2]}.cjs");`;
  const builtin = line.match(/^import \{([\w\s,]+)\} from "(node:[\w/]+)";$/);
  if (builtin) return `const {${builtin[1]}} = require("${builtin[2]}");`;
  if (/^import /.test(line)) throw new Error(`${input}: unsupported import: ${line}`);
  const exp = line.match(/^export (class|function|const) (\w+)/);
  if (exp) {
    names.push(exp[2]);
    return line.slice("export ".length);
  }
  if (/^export /.test(line)) throw new Error(`${input}: unsupported export: ${line}`);
  return line;
});
writeFileSync(output, `"use strict";\n${lines.join("\n")}\nmodule.exports = { ${names.join(", ")} };\n`);
