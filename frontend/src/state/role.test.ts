import { describe, expect, it } from "vitest";
import { initialRole, operatorBlock, roleFrom } from "./role";

describe("caller role", () => {
  it("blocks operator actions for a viewer, with the reason, and while the role is unknown", () => {
    expect(operatorBlock(initialRole)).toMatch(/Checking/);
    expect(operatorBlock(roleFrom({ role: "viewer", can_operate: false }))).toMatch(/operator role; you are signed in as viewer/);
    expect(operatorBlock(roleFrom({ role: "operator", can_operate: true }))).toBeNull();
    expect(operatorBlock(roleFrom({ role: "admin", can_operate: true }))).toBeNull();
  });
  it("an older server without /api/ui/me leaves actions open (its 403 says why)", () => {
    expect(operatorBlock(roleFrom(null))).toBeNull();
  });
});
