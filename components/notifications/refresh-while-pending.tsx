"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** While a delivery is queued or being retried soon, re-reads the page every few seconds so its log keeps up. */
export function RefreshWhilePending({ pending }: { pending: boolean }) {
  const router = useRouter();
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => router.refresh(), 3_000);
    return () => clearInterval(timer);
  }, [pending, router]);
  return null;
}
