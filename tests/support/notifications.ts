// The notification parts tests run against: a real HTTP receiver on a local port that records every request (and
// answers as told: a status, a sequence of statuses, a redirect, or never), a real SMTP server (smtp-server) that
// keeps every message it accepts, and the notification services' dependencies on this run's database.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { Database } from "@/lib/db/client";
import type { NotificationDependencies } from "@/lib/notifications/dependencies";
import { createSecretBox } from "@/lib/notifications/secret-box";

export type ReceivedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

export type ReceiverBehaviour =
  | { kind: "status"; status: number }
  | { kind: "sequence"; statuses: number[] }
  | { kind: "redirect"; location: string }
  | { kind: "hang" };

export type Receiver = {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  behave(behaviour: ReceiverBehaviour): void;
  close(): Promise<void>;
};

export async function startReceiver(initial: ReceiverBehaviour = { kind: "status", status: 200 }): Promise<Receiver> {
  let behaviour = initial;
  let served = 0;
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      const index = served++;
      switch (behaviour.kind) {
        case "status":
          response.writeHead(behaviour.status, { "content-type": "text/plain" }).end("ok");
          return;
        case "sequence":
          response.writeHead(behaviour.statuses[Math.min(index, behaviour.statuses.length - 1)]!, { "content-type": "text/plain" }).end("seq");
          return;
        case "redirect":
          response.writeHead(302, { location: behaviour.location }).end();
          return;
        case "hang":
          // Never answers; the client's timeout must end it.
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/gitar`,
    port,
    requests,
    behave(next) {
      behaviour = next;
      served = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type ReceivedMail = { envelopeTo: string[]; from: string; subject: string; text: string; html: string };

export type SmtpStandIn = { url: string; messages: ReceivedMail[]; close(): Promise<void> };

/** A real SMTP server on a local port (no TLS, no auth: it is on 127.0.0.1 and lives for one test file). */
export async function startSmtpStandIn(): Promise<SmtpStandIn> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push({
            envelopeTo: session.envelope.rcptTo.map((recipient) => recipient.address),
            from: mail.from?.text ?? "",
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The services' dependencies on this run's database, with a key of their own and a controllable clock. */
export function notificationDeps(db: Database, overrides: Partial<NotificationDependencies> = {}): NotificationDependencies {
  const key = randomBytes(32);
  return {
    db,
    box: createSecretBox(async () => key),
    allowPrivateNetworks: true,
    timeoutMs: 1_500,
    retry: { firstDelayMs: 10_000, maxDelayMs: 60 * 60 * 1000, giveUpAfterMs: 24 * 60 * 60 * 1000 },
    random: () => 0.5,
    ...overrides,
  };
}
