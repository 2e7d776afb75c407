// `npm run conformance`: runs the BuildKit parser and shell corpora and prints
// one summary line per suite. Exit code 1 if any case fails.

import { conformanceDir } from "./locate.js";
import { runParserLineNumbers, runParserNegative, runParserTestfiles, type CaseResult } from "./parser-corpus.js";
import { runEnvVarTest, runWordsTest } from "./shell-corpus.js";

function report(results: CaseResult[]): number {
  let failed = 0;
  for (const r of results) {
    if (!r.ok) {
      failed++;
      console.error(`  FAIL ${r.name}: ${r.detail ?? ""}`);
    }
  }
  return failed;
}

function main(): number {
  const root = conformanceDir();
  let failed = 0;

  const testfiles = runParserTestfiles(root);
  failed += report(testfiles);
  console.log(`buildkit parser testfiles: ${testfiles.filter((r) => r.ok).length}/${testfiles.length} passed`);

  const negative = runParserNegative(root);
  failed += report(negative);
  console.log(`buildkit parser negative: ${negative.filter((r) => r.ok).length}/${negative.length} rejected`);

  const lines = runParserLineNumbers(root);
  failed += report(lines);
  console.log(`buildkit parser line numbers: ${lines.filter((r) => r.ok).length}/${lines.length} passed`);

  const env = runEnvVarTest(root);
  const words = runWordsTest(root);
  const shell = [...env.results, ...words.results];
  failed += report(shell);
  const skipped = env.skipped + words.skipped;
  console.log(`buildkit shell cases: ${shell.filter((r) => r.ok).length}/${shell.length} passed (${skipped} skipped: windows-only)`);
  return failed === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`conformance: ${(e as Error).message}`);
  process.exitCode = 2;
}
