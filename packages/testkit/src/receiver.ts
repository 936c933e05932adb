//! A receiver on loopback that keeps every request it gets and checks signatures with the
//! `standardwebhooks` package directly (independent of the code under test); it can be
//! made to fail for a while, like a receiver that is down.
import { createServer, type Server } from "node:http";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  body: string;
  headers: Record<string, string>;
  event: { id: string; type: string; subject?: string; origin?: string; sequence?: number; data: Record<string, unknown> };
}

export class Receiver {
  readonly received: Received[] = [];
  #secret: string | undefined;
  #down = false;
  #server: Server;
  url = "";

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.#down) {
          res.writeHead(503).end();
          return;
        }
        const body = Buffer.concat(chunks).toString("utf8");
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
        try {
          if (this.#secret === undefined) throw new Error("no secret yet");
          new Webhook(this.#secret).verify(body, headers);
        } catch {
          res.writeHead(401).end();
          return;
        }
        this.received.push({ id: headers["webhook-id"] ?? "", body, headers, event: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    if (typeof address !== "object" || address === null) throw new Error("receiver has no address");
    this.url = `http://127.0.0.1:${address.port}/hook`;
    return this;
  }

  /** The endpoint's secret, known once authhooks created the endpoint. */
  trust(secret: string): void {
    this.#secret = secret;
  }

  set down(down: boolean) {
    this.#down = down;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
