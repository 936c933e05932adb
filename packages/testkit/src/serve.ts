//! A fetch-style handler (`Request` → `Response`) served over node:http on loopback, with
//! `@hono/node-server`: how the tests put Payload's REST handler or Better Auth's handler
//! on a real port.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";

export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serveFetch(handler: (request: Request) => Promise<Response>, port = 0): Promise<Served> {
  let listening: (info: AddressInfo) => void = () => {};
  const ready = new Promise<AddressInfo>((resolve) => (listening = resolve));
  // The handler gets a standard `Request` (a clone of the server's lightweight one): Payload
  // adds fields to the request it is given, which the lightweight one refuses.
  const server = serve({ fetch: (request) => handler(request.clone()), port, hostname: "127.0.0.1" }, (info) => listening(info));
  const info = await ready;
  return {
    url: `http://127.0.0.1:${info.port}`,
    port: info.port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
