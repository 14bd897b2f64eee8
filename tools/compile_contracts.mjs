#!/usr/bin/env node
// Compiles signing/contracts/*.sol offline with the solc build pinned in package.json
// and writes <Name>.abi.json and <Name>.bin (hex creation bytecode) beside each
// source. `--check` compiles and fails if the committed outputs differ.
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const here = dirname(fileURLToPath(import.meta.url));
const contractsDir = join(here, "..", "signing", "contracts");
// Paris bytecode (no PUSH0) runs on every EVM chain we may anchor to.
const EVM_VERSION = "paris";
const check = process.argv.includes("--check");

const sources = {};
for (const file of readdirSync(contractsDir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(join(contractsDir, file), "utf8") };
}
if (Object.keys(sources).length === 0) {
  console.error(`no .sol files in ${contractsDir}`);
  process.exit(1);
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

let stale = 0;
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, artifact] of Object.entries(contracts)) {
    if (name !== basename(file, ".sol")) continue;
    const outputs = {
      [`${name}.abi.json`]: JSON.stringify(artifact.abi, null, 2) + "\n",
      [`${name}.bin`]: artifact.evm.bytecode.object + "\n",
    };
    for (const [out, text] of Object.entries(outputs)) {
      const path = join(contractsDir, out);
      if (check) {
        if (!existsSync(path) || readFileSync(path, "utf8") !== text) {
          console.error(`stale: ${out} (run: npm run compile --prefix tools)`);
          stale += 1;
        }
      } else {
        writeFileSync(path, text);
        console.log(`wrote ${out}`);
      }
    }
  }
}
console.log(`solc ${solc.version()} evmVersion=${EVM_VERSION}`);
process.exit(stale > 0 ? 1 : 0);
