//! Debian's Chromium, headless, as root allows it: no sandbox, no background networking
//! (this network refuses it). Playwright gives each launch a fresh profile of its own.
//! CHROMIUM overrides the path.
import { chromium, type Browser } from "playwright-core";

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
