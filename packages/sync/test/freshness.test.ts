//! The stale-update rule: both sides of a sync must pick the same winner.
import assert from "node:assert/strict";
import { test } from "node:test";
import { freshness, stateOf, type SubjectState } from "../src/index.js";

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, s)).toISOString();
const from = (origin: string, s: number, sequence: number | null = null): SubjectState => ({ changedAt: at(s), origin, sequence });

test("the first change of a subject applies", () => {
  assert.equal(freshness(null, from("better-auth", 1, 10)), "apply");
});

test("from one source, authhooks' sequence orders changes, even within one millisecond", () => {
  const held = from("better-auth", 5, 10);
  assert.equal(freshness(held, from("better-auth", 5, 11)), "apply", "same instant, later sequence");
  assert.equal(freshness(held, from("better-auth", 5, 10)), "duplicate");
  assert.equal(freshness(held, from("better-auth", 6, 9)), "stale", "a lower sequence never wins");
});

test("between systems, the later change wins on both sides", () => {
  const authChange = from("better-auth", 10, 100);
  const cmsChange = from("payload", 12, 101);
  // The CMS holds its own local edit and receives the older auth change: it keeps its own.
  assert.equal(freshness({ ...cmsChange, sequence: null }, authChange), "stale");
  // The auth server holds its own edit and receives the newer CMS change: it takes it.
  assert.equal(freshness({ ...authChange, sequence: null }, cmsChange), "apply");
});

test("a tie between systems is broken the same way on both sides", () => {
  const a = from("better-auth", 7);
  const b = from("payload", 7);
  const onA = freshness(a, b);
  const onB = freshness(b, a);
  assert.notEqual(onA, onB, "exactly one side takes the other's change");
  assert.equal(onA, "apply", "the greater origin name wins");
});

test("a delivery's state is its timestamp, origin and sequence", () => {
  const delivery = { id: "evt_1", type: "user.updated", timestamp: at(3), data: {}, origin: "payload", sequence: 42 };
  assert.deepEqual(stateOf(delivery), { changedAt: at(3), origin: "payload", sequence: 42 });
  assert.deepEqual(stateOf({ ...delivery, origin: undefined, sequence: undefined }, "x"), { changedAt: at(3), origin: "x", sequence: null });
});
