import { describe, expect, it } from "vitest";
import { actionLabel, allowedActions } from "./outageLifecycle";

describe("restore proposal", () => {
  it("labels restore as a confirmation once the repair is complete", () => {
    const o = { status: "confirmed", acknowledged_utc: "t", restore_proposed: true, repair_work_order_id: "WO-1" };
    expect(allowedActions(o)).toEqual(["restore"]);
    expect(actionLabel(o, "restore")).toBe("Confirm restore");
    expect(actionLabel({ ...o, restore_proposed: false }, "restore")).toBe("Restore");
    expect(actionLabel(o, "acknowledge")).toBe("Acknowledge");
  });
});
