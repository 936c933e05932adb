//! A moto server (a real SQS and DynamoDB API) on a free loopback port, started the way the
//! Rust tests start it (tests/moto/moto_server.py), so `authhooks dev --aws-endpoint` keeps
//! its state across restarts of authhooks itself.
import { join } from "node:path";
import { freePort, repoRoot, start, until, type Child } from "./process.js";

export interface Moto {
  url: string;
  child: Child;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child = start("python3", [join(repoRoot(), "tests", "moto", "moto_server.py"), "-H", "127.0.0.1", "-p", String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/moto-api/`)).status < 500, "moto did not start (pip install 'moto[server]')", { child });
  return { url, child };
}
