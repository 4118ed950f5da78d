import { describe, expect, it } from "vitest";
import { ViewCache } from "@/lib/db/view-cache";

// What the view cache keeps and when it lets go (lib/db/view-cache.ts). The notifications that drive it, from real
// triggers over a real listening connection, are in tests/integration/view-cache.test.ts.

/** A loader that counts its calls and answers with the current value of `source`. */
function counted<T>(source: { value: T }) {
  const loader = async () => {
    loader.calls += 1;
    return source.value;
  };
  loader.calls = 0;
  return loader;
}

const listeningCache = () => {
  const cache = new ViewCache();
  cache.setListening(true);
  return cache;
};

describe("the view cache", () => {
  it("keeps nothing until it listens, and again once the listening connection is lost", async () => {
    const cache = new ViewCache();
    const load = counted({ value: "admin" });
    await cache.read("membership", "user-1", load);
    await cache.read("membership", "user-1", load);
    expect(load.calls).toBe(2);

    cache.setListening(true);
    await cache.read("membership", "user-1", load);
    await cache.read("membership", "user-1", load);
    expect(load.calls).toBe(3);

    // Lost: what was kept is dropped (changes are no longer heard), and nothing is kept until it listens again.
    cache.setListening(false);
    await cache.read("membership", "user-1", load);
    await cache.read("membership", "user-1", load);
    expect(load.calls).toBe(5);

    // Back: it starts empty, for what changed while no one listened.
    cache.setListening(true);
    await cache.read("membership", "user-1", load);
    expect(load.calls).toBe(6);
  });

  it("drops the row a change names, and only that row", async () => {
    const cache = listeningCache();
    const first = { value: "admin" };
    const second = { value: "member" };
    const loadFirst = counted(first);
    const loadSecond = counted(second);
    await cache.read("membership", "user-1", loadFirst);
    await cache.read("membership", "user-2", loadSecond);

    first.value = "member";
    cache.changed("membership:user-1");
    expect(await cache.read("membership", "user-1", loadFirst)).toBe("member");
    expect(await cache.read("membership", "user-2", loadSecond)).toBe("member");
    expect([loadFirst.calls, loadSecond.calls]).toEqual([2, 1]);
  });

  it("keeps the kinds apart: a connection's change leaves memberships, and “*” drops one kind whole", async () => {
    const cache = listeningCache();
    const membership = counted({ value: "admin" });
    const connectionA = counted({ value: "connected" });
    const connectionB = counted({ value: "connected" });
    const readAll = async () => {
      await cache.read("membership", "org-a", membership);
      await cache.read("connection", "org-a", connectionA);
      await cache.read("connection", "org-b", connectionB);
    };
    await readAll();
    cache.changed("connection:org-a");
    await readAll();
    expect([membership.calls, connectionA.calls, connectionB.calls]).toEqual([1, 2, 1]);

    cache.changed("connection:*");
    await readAll();
    expect([membership.calls, connectionA.calls, connectionB.calls]).toEqual([1, 3, 2]);
  });

  it("empties itself on a notification it does not understand", async () => {
    const cache = listeningCache();
    const membership = counted({ value: "admin" });
    const connection = counted({ value: "connected" });
    for (const payload of ["", "something-else", "membership", "audit:org-a"]) {
      await cache.read("membership", "user-1", membership);
      await cache.read("connection", "org-a", connection);
      cache.changed(payload);
    }
    await cache.read("membership", "user-1", membership);
    expect([membership.calls, connection.calls]).toEqual([5, 4]);
  });

  it("does not keep a row read while a change was heard: it may be from before that change", async () => {
    const cache = listeningCache();
    const source = { value: "admin" };
    let calls = 0;
    const loadDuringAChange = async () => {
      calls += 1;
      const seen = source.value;
      // The change commits and is heard while this read is in flight (its snapshot may predate it).
      source.value = "member";
      cache.changed("membership:someone-else");
      return seen;
    };
    expect(await cache.read("membership", "user-1", loadDuringAChange)).toBe("admin");
    const load = counted(source);
    expect(await cache.read("membership", "user-1", load)).toBe("member");
    expect(await cache.read("membership", "user-1", load)).toBe("member");
    expect([calls, load.calls]).toEqual([1, 1]);
  });

  it("keeps an absent row too (signed in but no membership; not connected)", async () => {
    const cache = listeningCache();
    const load = counted<null>({ value: null });
    expect(await cache.read("connection", "org-a", load)).toBeNull();
    expect(await cache.read("connection", "org-a", load)).toBeNull();
    expect(load.calls).toBe(1);
  });

  it("keeps nothing from a read that failed", async () => {
    const cache = listeningCache();
    await expect(cache.read("connection", "org-a", () => Promise.reject(new Error("database unavailable")))).rejects.toThrow("database unavailable");
    const load = counted({ value: "connected" });
    expect(await cache.read("connection", "org-a", load)).toBe("connected");
    expect(load.calls).toBe(1);
  });
});
