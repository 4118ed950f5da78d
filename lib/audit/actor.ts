/**
 * Who acted. A person is named by id and by the email they had at the time (the trail outlives the user); the
 * scheduled checks have no person behind them; an API key (for automation) is named by its id and name.
 */
export type PersonActor = { type: "person"; userId: string; email: string };
export type ApiKeyActor = { type: "api_key"; keyId: string; name: string };
export type Actor = PersonActor | { type: "scheduler" } | ApiKeyActor;

export const SCHEDULER: Actor = { type: "scheduler" };

export function personActor(person: { userId: string; email: string }): PersonActor {
  return { type: "person", userId: person.userId, email: person.email };
}

/** How the audit log and messages name an actor. */
export function describeActor(actor: { type: Actor["type"]; email?: string | null; label?: string | null }): string {
  switch (actor.type) {
    case "person":
      return actor.email ?? "A removed user";
    case "scheduler":
      return "Scheduled check";
    case "api_key":
      return `API key “${actor.label ?? "unnamed"}”`;
  }
}
