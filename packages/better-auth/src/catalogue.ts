//! The event catalogue: what Better Auth's rows and responses become as identity events.
//! Only what receivers need and nothing secret: never a session token, a password hash or
//! an OAuth token.

/** A user as events carry it (`data.user`), in the catalogue's snake_case. */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
  email_verified: boolean;
  image: string | null;
  created_at?: string;
  updated_at?: string;
  banned?: boolean;
  role?: string | null;
}

type Row = Record<string, unknown>;

const iso = (value: unknown): string | undefined =>
  value instanceof Date ? value.toISOString() : typeof value === "string" ? value : undefined;

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function userView(user: Row): UserView {
  const view: UserView = {
    id: String(user["id"]),
    email: String(user["email"] ?? ""),
    name: str(user["name"]),
    email_verified: user["emailVerified"] === true,
    image: str(user["image"]),
  };
  const created = iso(user["createdAt"]);
  const updated = iso(user["updatedAt"]);
  if (created) view.created_at = created;
  if (updated) view.updated_at = updated;
  // The admin plugin's fields, when it is installed.
  if ("banned" in user) view.banned = user["banned"] === true;
  if ("role" in user) view.role = str(user["role"]);
  return view;
}

/** The time a row last changed, the event's `timestamp`: the stale-update rule compares it. */
export function changedAt(row: Row): Date {
  const value = row["updatedAt"] ?? row["createdAt"];
  const at = value instanceof Date ? value : typeof value === "string" ? new Date(value) : new Date();
  return Number.isNaN(at.getTime()) ? new Date() : at;
}

export function sessionView(session: Row) {
  return {
    id: String(session["id"]),
    user_id: String(session["userId"]),
    expires_at: iso(session["expiresAt"]) ?? null,
    ip_address: str(session["ipAddress"]),
    user_agent: str(session["userAgent"]),
  };
}

export function accountView(account: Row) {
  return {
    id: String(account["id"]),
    user_id: String(account["userId"]),
    provider_id: String(account["providerId"]),
    account_id: String(account["accountId"]),
  };
}

/** An event the plugin found in an endpoint's response (organizations, API keys, OAuth clients). */
export interface RouteEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

export const pick = (row: unknown, keys: string[]): Row => {
  const out: Row = {};
  if (typeof row !== "object" || row === null) return out;
  for (const key of keys) {
    const value = (row as Row)[key];
    if (value !== undefined) out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
};

const ORGANIZATION = ["id", "name", "slug", "logo", "createdAt"];
const MEMBER = ["id", "organizationId", "userId", "role", "createdAt"];

/**
 * Plugins that write through their own adapter calls (the organization plugin, and API-key
 * or OAuth-provider plugins) never reach Better Auth's database hooks, so their events are
 * read from what the endpoint answered. The organization plugin's are built in; others are
 * added with the `routes` option. Answers `undefined` for every other path.
 */
export function organizationEvent(path: string, returned: unknown, body: Row | undefined): RouteEvent | undefined {
  const r = (typeof returned === "object" && returned !== null ? returned : {}) as Row;
  const id = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : undefined);
  switch (path) {
    case "/organization/create":
    case "/organization/update": {
      const subject = id(r["id"]);
      if (!subject) return undefined;
      const type = path.endsWith("create") ? "organization.created" : "organization.updated";
      return { type, subject, data: { organization: pick(r, ORGANIZATION) } };
    }
    case "/organization/delete": {
      const subject = id(body?.["organizationId"]) ?? id(r["id"]);
      return subject ? { type: "organization.deleted", subject, data: { organization: { id: subject } } } : undefined;
    }
    case "/organization/accept-invitation": {
      const member = (r["member"] ?? r) as Row;
      const subject = id(member["organizationId"]);
      return subject ? { type: "organization.member_added", subject, data: { member: pick(member, MEMBER) } } : undefined;
    }
    case "/organization/remove-member":
    case "/organization/leave": {
      const member = (r["member"] ?? r) as Row;
      const subject = id(member["organizationId"]) ?? id(body?.["organizationId"]);
      return subject ? { type: "organization.member_removed", subject, data: { member: pick(member, MEMBER) } } : undefined;
    }
    default:
      return undefined;
  }
}

export const ORGANIZATION_PATHS = [
  "/organization/create",
  "/organization/update",
  "/organization/delete",
  "/organization/accept-invitation",
  "/organization/remove-member",
  "/organization/leave",
];
