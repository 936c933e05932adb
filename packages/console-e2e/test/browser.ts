//! Debian's Chromium, headless, as root allows it: no sandbox, no background networking
//! (this network refuses it). Playwright gives each launch a fresh profile of its own.
//! CHROMIUM overrides the path.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium, type Browser, type Page } from "playwright-core";

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env["CHROMIUM"] ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** With AUTHHOOKS_SCREENSHOTS=<dir>, the whole page saved there as `<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env["AUTHHOOKS_SCREENSHOTS"];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
