//! The Better Auth plugin: every committed change of the catalogue becomes an event in the
//! outbox table (never a network call in the auth request), a background flusher sends the
//! outbox to authhooks, and an endpoint receives changes made in other systems.
import {
  DeliveryRejected,
  DeliveryVerifier,
  OutboxFlusher,
  consoleLogger,
  newEvent,
  type FlushReport,
  type IdentityEvent,
  type Logger,
} from "@authhooks/sync";
import type { AuthContext, BetterAuthPlugin } from "better-auth";
import { APIError, createAuthEndpoint, createAuthMiddleware, isAPIError } from "better-auth/api";
import { accountView, changedAt, organizationEvent, ORGANIZATION_PATHS, sessionView, userView, type RouteEvent } from "./catalogue.js";
import { isQuiet } from "./quiet.js";
import { applyDelivery, type ReceiveOptions } from "./receiver.js";
import { reconcileUsers, type ReconcileOptions, type ReconcileReport } from "./reconcile.js";
import { outboxStore, recordSubject, schema, writeOutbox, type Adapter } from "./tables.js";

export interface AuthhooksOptions {
  /** authhooks' ingest URL, `…/v1/events`. */
  url: string;
  /** The ingest secret, `whsec_…`. */
  secret: string;
  /** Stamped on every event: authhooks never sends it back to an endpoint of this origin. Default "better-auth". */
  origin?: string;
  tenantId?: string;
  /** Receive changes from other systems at `POST {basePath}/authhooks/deliveries`. */
  receive?: ReceiveOptions;
  /** Events for other plugins' endpoints, read from what the endpoint answered. */
  routes?: Record<string, (returned: unknown, body: Record<string, unknown> | undefined) => RouteEvent | undefined>;
  flush?: { intervalMs?: number; minBackoffMs?: number; maxBackoffMs?: number; /** Default true. */ autoStart?: boolean };
  logger?: Logger;
}

type Row = Record<string, unknown>;

export function authhooks(options: AuthhooksOptions) {
  const origin = options.origin ?? "better-auth";
  const logger = options.logger ?? consoleLogger;
  const verifier = options.receive ? new DeliveryVerifier(options.receive.secrets) : undefined;
  let context: AuthContext | undefined;
  const adapter = (): Adapter => {
    if (!context) throw new Error("authhooks: the plugin is not initialised (is it in betterAuth's plugins?)");
    return context.adapter as unknown as Adapter;
  };
  const flusher = new OutboxFlusher({
    ingest: { url: options.url, secret: options.secret },
    store: outboxStore(adapter),
    logger,
    ...(options.flush ?? {}),
  });

  /** Writes the event to the outbox; a failure is logged and never fails the auth request. */
  const emit = async (event: Omit<Parameters<typeof newEvent>[0], "origin" | "tenantId">): Promise<void> => {
    if (isQuiet()) return;
    try {
      const built = newEvent({ ...event, origin, tenantId: options.tenantId });
      await writeOutbox(adapter(), built);
      if (built.type.startsWith("user.") && built.subject) {
        // This system's own change: a later, older change from elsewhere must lose to it.
        await recordSubject(adapter(), built.subject, { changedAt: built.timestamp, origin, sequence: null });
      }
      flusher.kick();
    } catch (error) {
      logger.error(`could not write ${event.type} to the outbox: ${String(error)}`);
    }
  };

  const user = (type: string) => async (row: Row | null | number) => {
    if (typeof row !== "object" || row === null) return;
    const at = type === "user.deleted" ? new Date() : changedAt(row);
    await emit({ type, subject: String(row["id"]), at, data: { user: userView(row) } });
  };
  const of = (type: string, key: string, view: (row: Row) => Record<string, unknown>) => async (row: Row | null) => {
    if (typeof row !== "object" || row === null) return;
    await emit({ type, subject: String(row["userId"]), data: { [key]: view(row) } });
  };

  const routes = options.routes ?? {};
  const routePaths = new Set([...ORGANIZATION_PATHS, ...Object.keys(routes)]);

  const plugin = {
    id: "authhooks",
    schema,
    init(ctx: AuthContext) {
      context = ctx;
      if (options.flush?.autoStart !== false) flusher.start();
      return {
        options: {
          databaseHooks: {
            user: {
              create: { after: user("user.created") },
              update: {
                after: async (row: Row | null, ctx?: { path?: string } | null) => {
                  const type = ctx?.path === "/admin/ban-user" ? "user.banned" : ctx?.path === "/admin/unban-user" ? "user.unbanned" : "user.updated";
                  await user(type)(row);
                },
              },
              delete: { after: user("user.deleted") },
            },
            session: {
              create: { after: of("session.created", "session", sessionView) },
              delete: { after: of("session.revoked", "session", sessionView) },
            },
            account: {
              create: { after: of("account.linked", "account", accountView) },
              delete: { after: of("account.unlinked", "account", accountView) },
            },
          },
        },
      };
    },
    hooks: {
      after: [
        {
          matcher: (ctx: { path?: string }) => ctx.path !== undefined && routePaths.has(ctx.path),
          handler: createAuthMiddleware(async (ctx) => {
            const returned = ctx.context.returned;
            if (returned === undefined || isAPIError(returned) || returned instanceof Response) return;
            const body = typeof ctx.body === "object" && ctx.body !== null ? (ctx.body as Row) : undefined;
            const custom = routes[ctx.path];
            let event: RouteEvent | undefined;
            try {
              event = custom ? custom(returned, body) : organizationEvent(ctx.path, returned, body);
            } catch (error) {
              // A mapping that throws must not fail the request it observes.
              logger.error(`the event of ${ctx.path} could not be built: ${String(error)}`);
              return;
            }
            if (event) await emit(event);
          }),
        },
      ],
    },
    endpoints: {
      authhooksDeliveries: createAuthEndpoint(
        "/authhooks/deliveries",
        { method: "POST", disableBody: true, requireRequest: true, metadata: { isAction: false } },
        async (ctx) => {
          if (!verifier || !context) throw new APIError("NOT_FOUND", { message: "authhooks: receiving is not configured" });
          // The signature covers the exact bytes sent, so the body is read raw, not parsed.
          const raw = await ctx.request.text();
          let delivery;
          try {
            delivery = verifier.verify(raw, ctx.request.headers);
          } catch (error) {
            if (error instanceof DeliveryRejected) {
              throw new APIError(error.status === 401 ? "UNAUTHORIZED" : "BAD_REQUEST", { message: error.message });
            }
            throw error;
          }
          const outcome = await applyDelivery(context, delivery, options.receive!, origin);
          return ctx.json({ outcome });
        },
      ),
    },
    // Deliveries arrive in bursts after an outage; authhooks' own rate limit paces them.
    rateLimit: [{ pathMatcher: (path: string) => path === "/authhooks/deliveries", window: 60, max: 100_000 }],
  } satisfies BetterAuthPlugin;

  return Object.assign(plugin, {
    /** Sends what is in the outbox now (the background flusher does this on its own). */
    flush: (): Promise<FlushReport> => flusher.flush(),
    /** Stops the background flusher, after the send in progress; for shutdown and tests. */
    stop: (): Promise<void> => flusher.stop(),
    /** Consecutive failed sends to authhooks (0 when it is reachable). */
    get failures(): number {
      return flusher.failures;
    },
    /** Emits every user's current state, paged and paced: the initial sync of existing users. */
    reconcile: (reconcileOptions?: ReconcileOptions): Promise<ReconcileReport> =>
      reconcileUsers(adapter(), reconcileOptions, async (event: IdentityEvent) => {
        await writeOutbox(adapter(), { ...event, origin, ...(options.tenantId ? { tenant_id: options.tenantId } : {}) });
        flusher.kick();
      }),
  });
}
