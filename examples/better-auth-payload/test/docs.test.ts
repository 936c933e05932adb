//! docs/integrations.md shows only tested code: each TypeScript block names, on its first
//! line, the file it is taken from, and must still be found there word for word.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "@authhooks/testkit";

test("every TypeScript snippet of docs/integrations.md is in the tested file it names", () => {
  const root = repoRoot();
  const doc = readFileSync(join(root, "docs", "integrations.md"), "utf8");
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 4, `found ${blocks.length} blocks`);
  for (const block of blocks) {
    const [first, ...rest] = block.split("\n");
    const source = /^\/\/ ((?:examples|packages)\/\S+\.ts)$/.exec(first ?? "")?.[1];
    assert.ok(source, `a snippet must start with the path of its source: ${first}`);
    const code = readFileSync(join(root, source), "utf8");
    assert.ok(code.includes(rest.join("\n").trimEnd()), `${source} no longer holds:\n${rest.join("\n")}`);
  }
});
