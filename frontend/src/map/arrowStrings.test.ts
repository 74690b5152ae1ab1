import { describe, expect, it } from "vitest";
import { tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray, Utf8, Table } from "apache-arrow";
import { arrowStrings } from "./arrowStrings";

describe("arrow string columns", () => {
  it("decodes ASCII, non-ASCII and null values, across chunks, as get(i) does", () => {
    const values = ["M-0001", null, "Zürich Straße 5", "", "M-0002"];
    const col = vectorFromArray(values, new Utf8());
    const t = new Table({ s: col });
    const chunked = t.concat(new Table({ s: vectorFromArray(["late", null], new Utf8()) }));
    const s = chunked.getChild("s")!;
    expect(arrowStrings(s, s.length)).toEqual([...values, "late", null]);
    // through IPC, as the payloads arrive
    const back = tableFromIPC(tableToIPC(tableFromArrays({ id: ["A1", "B22", "C333"] })));
    expect(arrowStrings(back.getChild("id"), 3)).toEqual(["A1", "B22", "C333"]);
    expect(arrowStrings(null, 2)).toEqual([null, null]);
  });
});
