import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import { DemoBanner } from "@/components/layout/demo-banner";
import { getConfig } from "@/lib/config";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Gitar", template: "%s · Gitar" },
  description: "Watches CI, analyses failed builds and proposes fixes.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Configuration is read when a request arrives, never baked in at build time.
  await connection();
  const { demoMode } = getConfig().auth;
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        {demoMode ? <DemoBanner /> : null}
        {children}
      </body>
    </html>
  );
}
